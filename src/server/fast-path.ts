// The Ceph API path served straight from Node's request listener: the same intake, pipeline, error
// mapping and access log as the hono app, without a web Request and a middleware chain per call
// (the proxy path is what every team's calls pay for). The gateway's own pages (/gateway/...) and the
// Ceph-native login endpoints stay on the hono app.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Context } from 'hono';
import { headersFromRaw } from '../intake/headers.ts';
import { parseRequestTarget } from '../intake/request-target.ts';
import type { PipelineDeps } from '../pipeline/deps.ts';
import { createGatewayHandler } from '../pipeline/gateway.ts';
import { logRequest } from './access-log.ts';
import type { AppEnv, RequestState } from './env.ts';
import { errorResponse } from './error-response.ts';
import { checkHeaders, newRequestState } from './intake.ts';

export type FastPath = (incoming: IncomingMessage, outgoing: ServerResponse) => boolean;

const PROXIED_PREFIXES = ['/api/', '/ui-api/', '/clusters/'];
/** Ceph-native login endpoints, answered by the hono app where native login is on. */
const NATIVE_LOGIN = /\/api\/auth(\/logout|\/check)?$/;

export function createFastPath(deps: PipelineDeps, opts: { readonly nativeLogin: boolean }): FastPath {
  const handler = createGatewayHandler(deps);

  async function serve(incoming: IncomingMessage, outgoing: ServerResponse, started: number): Promise<void> {
    const state: RequestState = newRequestState(deps, headersFromRaw(incoming.rawHeaders), incoming.socket.remoteAddress);
    const method = incoming.method ?? 'GET';
    let logged = false;
    const log = () => {
      if (logged) return;
      logged = true;
      logRequest(deps, state, method, outgoing.statusCode, started);
    };
    outgoing.once('close', log);
    // The handler reads only these members of a hono Context (see pipeline/gateway.ts, respond.ts).
    const ctx = { get: () => state, req: { method }, env: { incoming, outgoing } } as unknown as Context<AppEnv>;
    try {
      checkHeaders(state.headers);
      state.target = parseRequestTarget(incoming.url ?? '');
      await handler(ctx);
    } catch (err) {
      if (outgoing.headersSent) {
        outgoing.destroy();
        return;
      }
      const { status, body, headers } = errorResponse(err, state, deps.log);
      const text = JSON.stringify(body);
      outgoing.writeHead(status, { ...headers, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
      outgoing.end(text);
    }
  }

  return function fastPath(incoming, outgoing) {
    const url = incoming.url ?? '';
    if (!PROXIED_PREFIXES.some((p) => url.startsWith(p))) return false;
    if (opts.nativeLogin && NATIVE_LOGIN.test(url.split('?', 1)[0] as string)) return false;
    const started = performance.now();
    serve(incoming, outgoing, started).catch((err: unknown) => {
      deps.log.error({ err }, 'fast path failed');
      outgoing.destroy();
    });
    return true;
  };
}
