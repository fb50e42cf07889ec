// The gateway's own pages and APIs (/gateway/...) as one hono app: intake first, the access log, the
// routes, and one error mapper. The Ceph API never comes here (server/request-listener.ts sends it
// through the pipeline).

import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import { Hono } from 'hono';
import { errorResponse } from '../core/error-response.ts';
import { GatewayError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { Metrics } from '../core/metrics.ts';
import type { IntakeDeps } from '../intake/request-state.ts';
import { accessLogMiddleware } from './access-log.ts';
import type { AppEnv } from './env.ts';
import { intakeMiddleware } from './intake.ts';

export interface AppOptions {
  /** Mounts the gateway's own routes (login, whoami, audit API, explain, API keys) under /gateway. */
  readonly gatewayRoutes?: (app: Hono<AppEnv>) => void;
  /** Browser login is configured: a browser (Accept: text/html) without a session on a gateway page goes to /gateway/login. */
  readonly loginRedirect?: boolean;
}

/** A browser asking for a gateway page (not an API client, not the login flow itself). */
function wantsPage(accept: string | undefined, path: string): boolean {
  return (accept ?? '').includes('text/html') && path.startsWith('/gateway/') && !path.startsWith('/gateway/login') && !path.startsWith('/gateway/callback');
}

export interface WebAppDeps extends IntakeDeps {
  readonly log: Logger;
  readonly metrics: Metrics;
}

export function createWebApp(deps: WebAppDeps, opts: AppOptions = {}): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.onError((err, c) => {
    const state = c.get('state') as AppEnv['Variables']['state'] | undefined;
    if (
      opts.loginRedirect &&
      state &&
      err instanceof GatewayError &&
      err.code === 'unauthenticated' &&
      wantsPage(c.req.header('accept'), state.target.rawPath)
    ) {
      // Only the canonical path goes into `rd`; the login route validates it again (same-origin relative paths only).
      return c.redirect(`/gateway/login?rd=${encodeURIComponent(state.target.rawPath)}`, 302);
    }
    const { status, body, headers } = errorResponse(err, state, deps.log);
    return c.json(body, status as 400, headers);
  });

  app.notFound((c) => {
    throw new GatewayError(404, 'not_found', `no such path: ${c.get('state')?.target.rawPath ?? ''}`.slice(0, 300));
  });

  app.use('*', accessLogMiddleware(deps));
  app.use('*', intakeMiddleware(deps));
  app.use('*', async (c, next) => {
    await next();
    if (c.res !== RESPONSE_ALREADY_SENT && !c.res.headers.has('x-request-id')) {
      try {
        c.res.headers.set('X-Request-Id', c.get('state').requestId);
      } catch {
        // immutable headers (a fetched Response): it already carries the id or never needs it
      }
    }
  });

  opts.gatewayRoutes?.(app);
  return app;
}
