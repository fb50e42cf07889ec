// The intake middleware: request id, canonical request target, headers, trusted client address.
// Runs first for every request on the public listener; every later stage reads c.get('state').

import { createMiddleware } from 'hono/factory';
import { headersFromRaw } from '../intake/headers.ts';
import { chooseRequestId, newRequestId } from '../intake/request-id.ts';
import { parseRequestTarget } from '../intake/request-target.ts';
import { clientAddress, normalizeAddress, type TrustedProxies } from '../intake/trusted-proxies.ts';
import type { RequestHeaders } from '../pipeline/types.ts';
import type { AppEnv } from './env.ts';

function headersFromWeb(h: Headers): RequestHeaders {
  const map = new Map<string, string[]>();
  h.forEach((value, name) => {
    map.set(name, [value]);
  });
  return map;
}

export function intakeMiddleware(deps: { trustedProxies: TrustedProxies; now: () => Date }) {
  return createMiddleware<AppEnv>(async function intake(c, next) {
    const incoming = c.env?.incoming;
    const headers = incoming ? headersFromRaw(incoming.rawHeaders) : headersFromWeb(c.req.raw.headers);
    const peer = normalizeAddress(incoming?.socket.remoteAddress ?? '127.0.0.1');
    const fromTrustedProxy = deps.trustedProxies.isTrusted(peer);
    // Placeholder state first, so an invalid target still gets a request id in its error.
    const requestId = chooseRequestId(headers.get('x-request-id'), fromTrustedProxy);
    const receivedAt = deps.now();
    c.set('state', {
      requestId, receivedAt, headers, fromTrustedProxy,
      clientIp: clientAddress(peer, headers.get('x-forwarded-for'), deps.trustedProxies),
      target: { raw: '/', rawPath: '/', segments: [], rawQuery: '', query: {}, cluster: null },
    });
    // The raw target as received on the wire: never the URL-normalised one (`/a/../b` -> `/b`).
    const raw = incoming?.url ?? new URL(c.req.url).pathname + new URL(c.req.url).search;
    c.get('state').target = parseRequestTarget(raw);
    await next();
  });
}

export { newRequestId };
