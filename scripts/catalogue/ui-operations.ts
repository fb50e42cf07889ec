// Turns the dashboard's own route listing into CatalogueOperation records (pure). Ids are
// `<ControllerClass>.<handler>` as Ceph names them (`OsdUi.create`, `HostUi.inventory`); a controller
// that is itself the endpoint (`__call__`) is named by its last path segment (`LoginController.custom_banner`).
// Characters other than letters, digits and `_` are dropped: Reef's CRUDEndpoint names the classes it
// generates after their router path (`rgwaccounts{account_id}roles_CRUDClassMetadata`).

import type { CatalogueOperation, CephPermission } from '../../src/core/catalogue.ts';
import type { HttpMethod } from '../../src/core/http.ts';
import type { DashboardRoute } from './dashboard-routes.ts';
import { POOL_FIELD_NAMES, SECRET_FIELD_NAMES } from './fields.ts';
import { parseTemplate } from './openapi-operations.ts';

const METHOD_ORDER: readonly HttpMethod[] = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];
const PERMISSIONS: ReadonlySet<string> = new Set<CephPermission>(['read', 'create', 'update', 'delete']);

const word = (s: string): string => s.replace(/-/g, '_').replace(/[^A-Za-z0-9_]/g, '');

export function operationId(route: Pick<DashboardRoute, 'controller' | 'handler' | 'template'>): string {
  if (route.handler !== '__call__') return `${word(route.controller)}.${word(route.handler)}`;
  const last =
    parseTemplate(route.template)
      .flatMap((s) => ('literal' in s ? [s.literal] : []))
      .at(-1) ?? 'root';
  return `${word(route.controller)}.${word(last)}`;
}

/**
 * The permission the operation stands for. Ceph checks a handler's declared permissions only on a secure
 * controller with a scope; on a secure one without a scope the declaration is kept (as the OpenAPI catalogue
 * keeps `read` for scope-less GETs) and the null scope says nothing is checked.
 */
function permissionOf(route: DashboardRoute): CephPermission | null {
  if (!route.secure || route.check === 'forbidden') return null;
  if (route.permissions.length > 1)
    throw new Error(`${route.method} ${route.template}: several permissions (${route.permissions.join(', ')}) cannot be one CatalogueOperation.permission`);
  const p = route.permissions[0];
  if (p === undefined) return null;
  if (!PERMISSIONS.has(p)) throw new Error(`${route.method} ${route.template}: unknown permission ${p}`);
  return p as CephPermission;
}

const unique = (xs: readonly string[]): string[] => [...new Set(xs)];

export function operationFromRoute(route: DashboardRoute, defaultVersion: string): CatalogueOperation {
  const where = `${route.method} ${route.template} (${route.controller}.${route.handler})`;
  // A Proxy endpoint answers every method: one method-keyed record would under-describe it.
  if (route.any_method) throw new Error(`${where}: takes every method, cannot be catalogued`);
  const segments = parseTemplate(route.template);
  const pathParams = segments.flatMap((s) => ('param' in s ? [s.param] : []));
  // Every parameter Ceph's Endpoint takes from the path must be in the URL its router built. The URL may
  // have more: a controller path parameter the handler does not name (Tentacle's CRUD metadata handlers)
  // is still matched by the router, which passes it as a keyword argument.
  const missing = route.path_params.filter((p) => !pathParams.includes(p));
  if (missing.length > 0) throw new Error(`${where}: Ceph's path_params ${missing.join(', ')} are not in the template`);
  const argNames = [...route.body_params, ...route.query_params];
  return {
    id: operationId(route),
    method: route.method,
    template: route.template,
    segments,
    pathParams,
    version: route.version ?? defaultVersion,
    scope: route.secure ? route.scope : null,
    permission: permissionOf(route),
    poolFields: unique(argNames.filter((n) => POOL_FIELD_NAMES.has(n))),
    secretFields: unique(argNames.filter((n) => SECRET_FIELD_NAMES.has(n))),
    bodyFields: route.body_params,
    queryParams: route.query_params,
    unauthenticated: !route.secure,
  };
}

/** The operations of the routes `keep` selects, in catalogue order; ids and (method, template) must be unique. */
export function operationsFromRoutes(routes: readonly DashboardRoute[], defaultVersion: string, keep: (r: DashboardRoute) => boolean): CatalogueOperation[] {
  const ops = routes.filter(keep).map((r) => operationFromRoute(r, defaultVersion));
  const seen = new Set<string>();
  for (const op of ops) {
    for (const key of [`id ${op.id}`, `route ${op.method} ${op.template}`]) {
      if (seen.has(key)) throw new Error(`duplicate ${key}`);
      seen.add(key);
    }
  }
  return ops.sort((a, b) => a.template.localeCompare(b.template) || METHOD_ORDER.indexOf(a.method) - METHOD_ORDER.indexOf(b.method));
}

export const isUiRoute = (r: DashboardRoute): boolean => r.template === '/ui-api' || r.template.startsWith('/ui-api/');
