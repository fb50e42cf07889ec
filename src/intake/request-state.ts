// The request state every request starts with: request id, headers, trusted client address, and the
// header checks that run before anything reads them. Both entry points (the Ceph API's Node listener
// and the gateway's own pages) build it here.

import { GatewayError } from '../core/errors.ts';
import type { RequestHeaders } from '../core/http.ts';
import type { RequestState } from '../core/request-state.ts';
import { chooseRequestId } from './request-id.ts';
import { clientAddress, normalizeAddress, type TrustedProxies } from './trusted-proxies.ts';

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
