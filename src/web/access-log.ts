// The access-log middleware of the gateway's own pages and APIs (hono): one line per request, written
// when the answer is really done (streamed answers finish after the handler returns).

import { createMiddleware } from 'hono/factory';
import type { Logger } from '../core/logger.ts';
import type { Metrics } from '../core/metrics.ts';
import type { RequestState } from '../core/request-state.ts';
import { logRequest } from '../telemetry/access-log.ts';
import type { AppEnv } from './env.ts';

export function accessLogMiddleware(deps: { readonly log: Logger; readonly metrics: Metrics }) {
  return createMiddleware<AppEnv>(async function accessLog(c, next) {
    const started = performance.now();
    const outgoing = c.env?.outgoing;
    let logged = false;
    const write = (status: number) => {
      if (logged) return;
      logged = true;
      logRequest(deps, c.get('state') as RequestState | undefined, c.req.method, status, started);
    };
    await next();
    // Streamed answers finish later than the handler: log when the response is really done.
    if (outgoing && !outgoing.writableFinished && outgoing.headersSent) {
      outgoing.once('close', () => write(outgoing.statusCode));
    } else write(outgoing?.headersSent ? outgoing.statusCode : c.res.status);
  });
}
