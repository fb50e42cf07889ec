// Compares the routes a hono app has registered under /gateway with the operations an OpenAPI document
// describes, as `METHOD /path` lines (hono's `:param` written as OpenAPI's `{param}`). The OpenAPI
// test asserts both differences are empty, so a route added without its description fails it.

import type { Hono } from 'hono';

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

/** `GET /gateway/v1/audit`, ... for every handler (not middleware) the app registered under /gateway. */
// biome-ignore lint/suspicious/noExplicitAny: any hono app, whatever its environment type
export function registeredRoutes(app: Hono<any>): string[] {
  const out = new Set<string>();
  for (const r of app.routes) {
    if (r.method === 'ALL' || !(r.path === '/gateway' || r.path.startsWith('/gateway/'))) continue;
    out.add(`${r.method.toUpperCase()} ${r.path.replace(/:([A-Za-z_][A-Za-z0-9_]*)/g, '{$1}')}`);
  }
  return [...out].sort();
}

export function describedRoutes(doc: { readonly paths?: Record<string, unknown> }): string[] {
  const out: string[] = [];
  for (const [path, item] of Object.entries(doc.paths ?? {})) {
    for (const m of METHODS) if ((item as Record<string, unknown>)[m] !== undefined) out.push(`${m.toUpperCase()} ${path}`);
  }
  return out.sort();
}

export function routeCoverage(
  // biome-ignore lint/suspicious/noExplicitAny: any hono app, whatever its environment type
  app: Hono<any>,
  doc: { readonly paths?: Record<string, unknown> },
): { readonly undescribed: string[]; readonly missing: string[] } {
  const registered = registeredRoutes(app);
  const described = describedRoutes(doc);
  return { undescribed: registered.filter((r) => !described.includes(r)), missing: described.filter((d) => !registered.includes(d)) };
}
