// POST /gateway/v1/explain: which rules match a request and why, for the caller or for a principal
// the caller describes. Authorised by the Gateway.explain operation (explanations show rules).

import type { Context } from 'hono';
import { z } from 'zod';
import type { RouteMatcher } from '../ceph/route-matcher.ts';
import { GatewayError } from '../core/errors.ts';
import type { HttpMethod } from '../core/http.ts';
import type { Principal } from '../core/principal.ts';
import { parseRequestTarget } from '../intake/request-target.ts';
import type { PolicyManager } from '../policy/manager.ts';
import type { AppEnv } from './env.ts';
import type { RouteAuthorizer } from './gateway-routes.ts';

export interface ExplainDeps {
  readonly matchRoute: RouteMatcher;
  readonly now: () => Date;
  readonly policies: PolicyManager;
  readonly authorize: RouteAuthorizer;
}

const explainBody = z
  .object({
    method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']),
    path: z.string().min(1).max(8192),
    body: z.unknown().optional(),
    principal: z
      .object({
        id: z.string().min(1),
        groups: z.array(z.string()).default([]),
        method: z.enum(['oidc_bearer', 'session', 'api_key', 'ceph_native']).default('oidc_bearer'),
        api_key_name: z.string().nullable().default(null),
        claims: z.record(z.string(), z.unknown()).default({}),
      })
      .strict()
      .optional(),
  })
  .strict();

export function createExplainRoute(deps: ExplainDeps) {
  return async function explain(c: Context<AppEnv>) {
    const caller = await deps.authorize(c, 'Gateway.explain');
    const parsed = explainBody.safeParse(await c.req.json().catch(() => undefined));
    if (!parsed.success) throw new GatewayError(400, 'bad_request', 'Body must be {"method", "path", "body"?, "principal"?}.', { cause: parsed.error });
    const q = parsed.data;
    const principal: Principal = q.principal
      ? {
          id: q.principal.id,
          name: q.principal.id,
          email: null,
          groups: q.principal.groups,
          method: q.principal.method,
          authenticatedAt: deps.now(),
          apiKeyName: q.principal.api_key_name,
          claims: q.principal.claims,
        }
      : caller;
    const target = parseRequestTarget(q.path);
    const route = deps.matchRoute(q.method as HttpMethod, target);
    const body = q.body === undefined ? null : Buffer.from(JSON.stringify(q.body));
    const result = deps.policies.current.explain({
      principal,
      method: q.method as HttpMethod,
      route,
      query: target.query,
      body,
      contentType: body ? 'application/json' : null,
      now: deps.now(),
    });
    return c.json({
      request: {
        method: q.method,
        path: q.path,
        cluster: route.cluster,
        operation: route.operation?.id ?? null,
        template: route.template,
        params: route.params,
      },
      ...result,
    });
  };
}
