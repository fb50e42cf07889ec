// The refusal of a rate-limited request, in Ceph's error shape with a stable code (core/errors.ts):
// 429 (or the cluster budget's 503) `too_many_requests`, Retry-After (RFC 9110 10.2.3), the draft's
// RateLimit-Policy / RateLimit fields, and the policy that refused it.

import { GatewayError } from '../core/errors.ts';
import type { Limited } from './check.ts';
import type { RateLimitHeaderValues } from './headers.ts';

export function rateLimitError(l: Limited, headers: RateLimitHeaderValues | null): GatewayError {
  const detail =
    l.status === 503
      ? `The cluster is at its request budget (${l.limit} requests/s); retry after ${l.retryAfterSeconds} s.`
      : `Rate limit ${l.policy} exceeded (${l.limit} requests per window); retry after ${l.retryAfterSeconds} s.`;
  return new GatewayError(l.status, 'too_many_requests', detail, {
    // Retry-After is never earlier than the end of the effective window (draft section 6).
    headers: { 'Retry-After': String(l.retryAfterSeconds), ...(headers ?? {}) },
    extra: { retry_after: l.retryAfterSeconds, rate_limit_policy: l.policy },
  });
}
