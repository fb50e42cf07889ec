// The intake middleware of the gateway's own pages and APIs: the request state (intake/request-state.ts)
// with the canonical request target, first for every request; later handlers read c.get('state').

import { createMiddleware } from 'hono/factory';
import { headersFromRaw } from '../intake/headers.ts';
import { checkHeaders, type IntakeDeps, newRequestState } from '../intake/request-state.ts';
import { parseRequestTarget } from '../intake/request-target.ts';
import type { AppEnv } from './env.ts';

/**
 * Needs Node's request (served by @hono/node-server): only its rawHeaders keep repeated headers apart
 * (a Fetch `Headers` merges them, and two Authorization headers must be refused, never merged), and
 * only its url is the target as received (a URL object normalises `/a/../b` to `/b`).
 */
export function intakeMiddleware(deps: IntakeDeps) {
  return createMiddleware<AppEnv>(async function intake(c, next) {
    const incoming = c.env?.incoming;
    if (incoming === undefined) throw new Error('the gateway app is served by Node only (@hono/node-server): no raw request');
    const headers = headersFromRaw(incoming.rawHeaders);
    const state = newRequestState(deps, headers, incoming.socket.remoteAddress);
    c.set('state', state);
    checkHeaders(headers);
    state.target = parseRequestTarget(incoming.url ?? '');
    await next();
  });
}
