// The gateway's own endpoints under /gateway: whoami, explain, the audit API and the API-key admin API
// (and browser login when configured), the pages for people (web/pages/) and the OpenAPI document
// that describes them all. Each is authorised by policy through the injected authoriser
// (pipeline/gateway-operations.ts, wired by server/build.ts).

import type { Context, Hono } from 'hono';
import type { AuditStore } from '../audit/store.ts';
import type { ApiKeyStore } from '../auth/apikey-store.ts';
import type { RouteMatcher } from '../ceph/route-matcher.ts';
import type { GatewayAuthorizer, GatewayOperationId } from '../core/gateway-operations.ts';
import type { AuthInput, Principal } from '../core/principal.ts';
import { parseRequestTarget } from '../intake/request-target.ts';
import type { PolicyManager } from '../policy/manager.ts';
import { createApiKeyRoutes } from './apikeys-api.ts';
import { createAuditRoutes } from './audit-api.ts';
import type { AppEnv } from './env.ts';
import { createExplainRoute } from './explain.ts';
import { gatewayOpenApi } from './openapi.ts';
import type { PagesDeps, PagesOptions } from './pages/deps.ts';
import { mountPages } from './pages/mount.ts';
import { createSessionView } from './pages/session-view.ts';
import { createVerification } from './pages/verification.ts';

export interface GatewayRoutesDeps {
  readonly authorize: GatewayAuthorizer;
  readonly authenticate: (input: AuthInput) => Promise<Principal>;
  readonly matchRoute: RouteMatcher;
  readonly now: () => Date;
  readonly audit: AuditStore;
  readonly apiKeys: ApiKeyStore;
  readonly apiKeyMaxLifetimeDays: number;
  readonly policies: PolicyManager;
  /** Browser login routes (login, callback, logout, whoami with sessions), when configured. */
  readonly browser?: Hono<AppEnv>;
  /** Settings of the pages from configuration (IdP name, Dashboard link, checkpoint key); all optional. */
  readonly pages?: PagesOptions;
}

/** The cluster a path without a /clusters/ prefix names: gateway operations are decided there, as the authoriser does. */
function defaultClusterOf(matchRoute: RouteMatcher): string {
  try {
    return matchRoute('GET', parseRequestTarget('/api/summary')).cluster;
  } catch {
    return 'default';
  }
}

/** The pages' dependencies, from the routes' own (one verification runner and session view per app). */
export function pagesDeps(g: GatewayRoutesDeps, authorize: RouteAuthorizer): PagesDeps {
  const options = g.pages ?? {};
  return {
    authorize,
    authenticate: g.authenticate,
    policies: g.policies,
    audit: g.audit,
    apiKeys: g.apiKeys,
    defaultCluster: defaultClusterOf(g.matchRoute),
    browserLogin: g.browser !== undefined,
    session: createSessionView(g.audit.db, g.now),
    verification: createVerification(g.audit.db, { now: g.now, ...(options.checkpointKey === undefined ? {} : { key: options.checkpointKey }) }),
    options,
    now: g.now,
  };
}

/** The authoriser as a hono handler needs it: the request's state and method, and the operation. */
export type RouteAuthorizer = (c: Context<AppEnv>, op: GatewayOperationId) => Promise<Principal>;

export function mountGatewayRoutes(app: Hono<AppEnv>, g: GatewayRoutesDeps): void {
  const authorize: RouteAuthorizer = (c, op) => g.authorize(c.get('state'), c.req.method, op);
  app.use('/gateway/*', async (c, next) => {
    await next();
    c.header('Cache-Control', 'no-store');
    c.header('X-Content-Type-Options', 'nosniff');
    c.header('X-Frame-Options', 'DENY');
    // Pages set their own (web/pages/respond.ts): a CSP with their hashed style and script, and a
    // same-origin referrer policy so their forms carry a real Origin for the CSRF check.
    if (!c.res.headers.has('Referrer-Policy')) c.header('Referrer-Policy', 'no-referrer');
    if (!c.res.headers.has('Content-Security-Policy')) c.header('Content-Security-Policy', "default-src 'none'; frame-ancestors 'none'");
  });

  // Browser sessions answer whoami with their CSRF token; every other credential falls through to the chain.
  if (g.browser) app.route('/', g.browser);
  app.get('/gateway/whoami', async (c) => {
    const s = c.get('state');
    const p = await g.authenticate({ method: 'GET', headers: s.headers, target: s.target, clientIp: s.clientIp });
    return c.json({
      id: p.id,
      name: p.name,
      email: p.email,
      groups: p.groups,
      method: p.method,
      api_key_name: p.apiKeyName,
      authenticated_at: p.authenticatedAt.toISOString(),
    });
  });
  app.route('/', createAuditRoutes({ store: g.audit, authorize: async (c) => void (await authorize(c, 'Gateway.audit.read')) }));
  app.route(
    '/gateway/v1/apikeys',
    createApiKeyRoutes({ store: g.apiKeys, authorize: (c) => authorize(c, 'Gateway.apikey.admin'), maxLifetimeDays: g.apiKeyMaxLifetimeDays, now: g.now }),
  );
  app.post('/gateway/v1/explain', createExplainRoute({ matchRoute: g.matchRoute, now: g.now, policies: g.policies, authorize }));
  mountPages(app, pagesDeps(g, authorize));
  // Public: it describes endpoints, holds nothing about this deployment but whether browser login is on.
  const openapi = gatewayOpenApi({ browserLogin: g.browser !== undefined });
  app.get('/gateway/openapi.json', (c) => c.json(openapi));
}
