// Compares the routes the dashboard's controllers declare with the OpenAPI-derived catalogue of the same
// release (pure): routes missing on either side and fields that disagree (scope, permission, version, ...).
// The catalogue infers scope from the spec's tag (catalogue-fields.ts scopeOfTag) and permission from the
// method; the controllers say what Ceph really checks.

import type { CatalogueOperation } from '../../src/core/catalogue.ts';
import type { DashboardRoute } from './dashboard-routes.ts';
import { operationFromRoute } from './ui-operations.ts';

export interface RouteRef {
  readonly method: string;
  readonly template: string;
  readonly name: string;
}

export interface Difference extends RouteRef {
  readonly field: string;
  readonly catalogue: unknown;
  readonly controllers: unknown;
}

export interface Comparison {
  readonly onlyInControllers: readonly RouteRef[];
  readonly onlyInCatalogue: readonly RouteRef[];
  readonly differences: readonly Difference[];
  /** Controller routes that cannot become one CatalogueOperation, and why. */
  readonly uncatalogued: readonly (RouteRef & { readonly why: string })[];
}

/** Method and template with parameter names erased: the same key for the same matched paths. */
const shapeKey = (method: string, template: string): string => `${method} ${template.replace(/\{[^}]*\}/g, '{}')}`;

const asSet = (xs: readonly string[]): string => [...xs].sort().join(',');

const FIELDS: readonly [string, (o: CatalogueOperation) => unknown][] = [
  ['template', (o) => o.template],
  ['scope', (o) => o.scope],
  ['permission', (o) => o.permission],
  ['unauthenticated', (o) => o.unauthenticated],
  ['version', (o) => o.version],
  ['queryParams', (o) => asSet(o.queryParams)],
  ['bodyFields', (o) => asSet(o.bodyFields)],
];

/** `routes`: the controllers' routes to compare (the caller picks, e.g. everything outside /ui-api). */
export function compareWithCatalogue(routes: readonly DashboardRoute[], catalogue: readonly CatalogueOperation[], defaultVersion: string): Comparison {
  const byShape = new Map(catalogue.map((o) => [shapeKey(o.method, o.template), o]));
  const matched = new Set<CatalogueOperation>();
  const onlyInControllers: RouteRef[] = [];
  const differences: Difference[] = [];
  const uncatalogued: (RouteRef & { why: string })[] = [];
  for (const route of routes) {
    const ref = { method: route.any_method ? '*' : route.method, template: route.template, name: `${route.controller}.${route.handler}` };
    let mine: CatalogueOperation;
    try {
      mine = operationFromRoute(route, defaultVersion);
    } catch (e) {
      uncatalogued.push({ ...ref, why: (e as Error).message });
      continue;
    }
    const theirs = byShape.get(shapeKey(route.method, route.template));
    if (theirs === undefined) {
      onlyInControllers.push(ref);
      continue;
    }
    matched.add(theirs);
    for (const [field, get] of FIELDS) {
      // Without a scope Ceph checks no permission: a differing one would change nothing.
      if (field === 'permission' && theirs.scope === null && mine.scope === null) continue;
      const [c, m] = [get(theirs), get(mine)];
      if (c !== m) differences.push({ ...ref, name: `${theirs.id} (${ref.name})`, field, catalogue: c, controllers: m });
    }
  }
  const onlyInCatalogue = catalogue.filter((o) => !matched.has(o)).map((o) => ({ method: o.method, template: o.template, name: o.id }));
  return { onlyInControllers, onlyInCatalogue, differences, uncatalogued };
}

export function formatComparison(title: string, c: Comparison): string[] {
  const lines = [
    `${title}: ${c.onlyInControllers.length} only in the controllers, ${c.onlyInCatalogue.length} only in the catalogue, ${c.differences.length} differences, ${c.uncatalogued.length} not catalogable`,
  ];
  const show = (v: unknown) => (v === '' ? '(none)' : JSON.stringify(v));
  for (const r of c.onlyInControllers) lines.push(`  only in controllers: ${r.method} ${r.template} ${r.name}`);
  for (const r of c.onlyInCatalogue) lines.push(`  only in catalogue:   ${r.method} ${r.template} ${r.name}`);
  for (const d of c.differences)
    lines.push(`  ${d.field}: ${d.method} ${d.template} ${d.name}: catalogue ${show(d.catalogue)}, controllers ${show(d.controllers)}`);
  for (const u of c.uncatalogued) lines.push(`  not catalogable: ${u.method} ${u.template} ${u.name}: ${u.why}`);
  return lines;
}
