// The intake middleware: request id, canonical request target, headers, trusted client address.
// Runs first for every request on the public listener; every later stage reads c.get('state').

import { createMiddleware } from 'hono/factory';
import { headersFromRaw } from '../intake/headers.ts';
import { chooseRequestId, newRequestId } from '../intake/request-id.ts';
import { parseRequestTarget } from '../intake/request-target.ts';
import { GatewayError } from './errors.ts';
import { clientAddress, normalizeAddress, type TrustedProxies } from '../intake/trusted-proxies.ts';
import type { RequestHeaders } from '../pipeline/types.ts';
import type { AppEnv, RequestState } from './env.ts';

function headersFromWeb(h: Headers): RequestHeaders {
  const map = new Map<string, string[]>();
  h.forEach((value, name) => {
    map.set(name, [value]);
  });
  return map;
}

export interface IntakeDeps {
  readonly trustedProxies: TrustedProxies;
  readonly now: () => Date;
}

/**
 * The request state before the target is parsed: request id, headers, trusted client address. The
 * target is a placeholder until `parseRequestTarget` succeeds, so an invalid target still gets a
 * request id in its error.
 */
/** RFC 9112 §3.2: one Host header, `uri-host [":" port]`; anything else is refused, never interpreted. */
const HOST = /^(?:[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

/**
 * Headers two readers could take differently when repeated are refused, never merged or picked:
 * Host (RFC 9112 §3.2), and Content-Type, which the policy reads the first of and Ceph the last.
 */
export function checkHeaders(headers: RequestHeaders): void {
  const host = headers.get('host');
  // HTTP/1.0 clients may omit Host; the gateway never routes by it.
  if (host !== undefined && (host.length !== 1 || !HOST.test(host[0] as string))) throw new GatewayError(400, 'invalid_request', 'invalid Host header');
  if ((headers.get('content-type')?.length ?? 0) > 1) throw new GatewayError(400, 'invalid_request', 'Content-Type given more than once');
}

export function newRequestState(deps: IntakeDeps, headers: RequestHeaders, peerAddress: string | undefined): RequestState {
  const peer = normalizeAddress(peerAddress ?? '127.0.0.1');
  const fromTrustedProxy = deps.trustedProxies.isTrusted(peer);
  return {
    requestId: chooseRequestId(headers.get('x-request-id'), fromTrustedProxy),
    receivedAt: deps.now(),
    headers,
    fromTrustedProxy,
    clientIp: clientAddress(peer, headers.get('x-forwarded-for'), deps.trustedProxies),
    target: { raw: '/', rawPath: '/', segments: [], rawQuery: '', query: {}, cluster: null },
  };
}

export function intakeMiddleware(deps: IntakeDeps) {
  return createMiddleware<AppEnv>(async function intake(c, next) {
    const incoming = c.env?.incoming;
    const headers = incoming ? headersFromRaw(incoming.rawHeaders) : headersFromWeb(c.req.raw.headers);
    const state = newRequestState(deps, headers, incoming?.socket.remoteAddress);
    c.set('state', state);
    // The raw target as received on the wire: never the URL-normalised one (`/a/../b` -> `/b`).
    const raw = incoming?.url ?? new URL(c.req.url).pathname + new URL(c.req.url).search;
    checkHeaders(headers);
    state.target = parseRequestTarget(raw);
    await next();
  });
}

export { newRequestId };
