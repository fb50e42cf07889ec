// What the public app needs from the stage modules, injected by server/build.ts (real parts) or
// by tests (doubles). Nothing here is constructed per request.

import type { Config } from '../config/schema.ts';
import type { AuditSink } from '../core/audit.ts';
import type { RouteMatch } from '../core/catalogue.ts';
import type { PolicyEngine } from '../core/decision.ts';
import type { LocalAnswer } from '../core/exchange.ts';
import type { HttpMethod, RequestTarget } from '../core/http.ts';
import type { Logger } from '../core/logger.ts';
import type { Metrics } from '../core/metrics.ts';
import type { AuthInput, Principal } from '../core/principal.ts';
import type { Upstream } from '../core/upstream.ts';
import type { TrustedProxies } from '../intake/trusted-proxies.ts';
import type { RateLimits } from '../limits/index.ts';

export interface PipelineDeps {
  readonly config: Config;
  readonly log: Logger;
  readonly metrics: Metrics;
  readonly trustedProxies: TrustedProxies;
  /** The authenticator chain: a principal, or a thrown GatewayError (400/401). */
  authenticate(input: AuthInput): Promise<Principal>;
  /** Route catalogue matching: a RouteMatch, or a thrown GatewayError (404). */
  matchRoute(method: HttpMethod, target: RequestTarget): RouteMatch;
  /** The active policy set (swapped atomically on reload). */
  policy(): PolicyEngine;
  readonly audit: AuditSink;
  readonly upstream: Upstream;
  readonly now: () => Date;
  /** The Ceph credential of a ceph_native principal (throws 401 when its session ended). */
  cephCredential?(principal: Principal, cluster: string): { token: string; rejected(): void };
  /** Clusters whose dashboard web UI is served (the login page's public reads are forwarded there). */
  readonly uiClusters?: ReadonlySet<string>;
  /** Operations the gateway answers itself, by operation id, tried in order (core/exchange.ts LocalAnswer). */
  readonly localAnswers?: ReadonlyMap<string, readonly LocalAnswer[]>;
  /** Rate limits (limits/), spent after authentication and the decision, before the audit intent; absent: none. */
  readonly rateLimits?: RateLimits;
}
