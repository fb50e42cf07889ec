// The gateway's own endpoints under /gateway: whoami, explain, the audit API and the API-key admin
// API (and browser login when configured). Each is authorised by policy through gateway-ops.ts.

import type { Hono } from 'hono';
import { createAuditRoutes } from '../audit/http.ts';
import type { AuditStore } from '../audit/store.ts';
import { createApiKeyRoutes } from '../auth/apikey-routes.ts';
import type { ApiKeyStore } from '../auth/apikey-store.ts';
import type { RouteCatalogue } from '../ceph/catalogue.ts';
import type { PipelineDeps } from '../pipeline/deps.ts';
import type { PolicyManager } from '../policy/manager.ts';
import type { AppEnv } from './env.ts';
import { createExplainRoute } from './explain-route.ts';
import { createGatewayAuthorizer } from './gateway-ops.ts';

export interface GatewayRoutesDeps {
  readonly deps: PipelineDeps;
  readonly audit: AuditStore;
  readonly apiKeys: ApiKeyStore;
  readonly policies: PolicyManager;
  readonly catalogues: ReadonlyMap<string, RouteCatalogue>;
  /** Browser login routes (login, callback, logout, whoami with sessions), when configured. */
  readonly browser?: Hono<AppEnv>;
}

export function mountGatewayRoutes(app: Hono<AppEnv>, g: GatewayRoutesDeps): void {
  const authorize = createGatewayAuthorizer(g.deps);
  const secureHeaders = async (c: { header: (k: string, v: string) => void }, next: () => Promise<void>) => {
    await next();
    c.header('Cache-Control', 'no-store');
    c.header('X-Content-Type-Options', 'nosniff');
    c.header('X-Frame-Options', 'DENY');
    c.header('Referrer-Policy', 'no-referrer');
    c.header('Content-Security-Policy', "default-src 'none'; frame-ancestors 'none'");
  };
  app.use('/gateway/*', secureHeaders);

  // Browser sessions answer whoami with their CSRF token; every other credential falls through to the chain.
  if (g.browser) app.route('/', g.browser);
  app.get('/gateway/whoami', async (c) => {
    const s = c.get('state');
    const p = await g.deps.authenticate({ method: 'GET', headers: s.headers, target: s.target, clientIp: s.clientIp });
    return c.json({ id: p.id, name: p.name, email: p.email, groups: p.groups, method: p.method, api_key_name: p.apiKeyName, authenticated_at: p.authenticatedAt.toISOString() });
  });
  app.route('/', createAuditRoutes<AppEnv>({ store: g.audit, authorize: async (c) => void (await authorize(c, 'Gateway.audit.read')) }));
  app.route(
    '/gateway/v1/apikeys',
    createApiKeyRoutes({
      store: g.apiKeys,
      authorize: (c) => authorize(c as never, 'Gateway.apikey.admin'),
      maxLifetimeDays: g.deps.config.identity.api_keys.max_lifetime_days,
      now: g.deps.now,
    }) as never,
  );
  app.post('/gateway/v1/explain', createExplainRoute(g.deps, g.policies, authorize));
}
