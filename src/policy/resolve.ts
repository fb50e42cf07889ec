// Resolves the `routes` and `methods` of a rule to catalogue operations: templates
// (`/api/pool/{pool_name}`), operation names (`Pool.create`, `Pool.*`), scope:permission
// (`pool:create`, `rbd-image:*`) and `*` (every Ceph operation). Unknown entries are load errors.

import type { CatalogueOperation } from '../core/catalogue.ts';
import type { HttpMethod } from '../core/http.ts';
import { gatewayCatalogue } from './gateway-operations.ts';
import { compileGlobs, globProblem } from './glob.ts';
import type { PolicyCatalogue } from './model.ts';

/** Every operation known to any catalogue (one per method + template), plus the gateway's own. */
export class OperationUniverse {
  readonly ceph: readonly CatalogueOperation[];
  readonly all: readonly CatalogueOperation[];

  constructor(catalogues: readonly PolicyCatalogue[]) {
    const seen = new Map<string, CatalogueOperation>();
    for (const c of catalogues) for (const op of c.operations) if (!seen.has(`${op.method} ${op.template}`)) seen.set(`${op.method} ${op.template}`, op);
    this.ceph = [...seen.values()];
    this.all = [...this.ceph, ...gatewayCatalogue.operations];
  }
}

export interface ResolvedRoutes {
  readonly ops: readonly CatalogueOperation[];
  readonly allRoutes: boolean;
  /** One message per entry that names nothing, with the entry's index in `routes`. */
  readonly problems: readonly { readonly index: number; readonly message: string }[];
}

const PERMISSIONS = new Set(['read', 'create', 'update', 'delete', '*']);

export function resolveRoutes(u: OperationUniverse, routes: readonly string[], methods: readonly HttpMethod[] | null): ResolvedRoutes {
  const picked = new Map<string, CatalogueOperation>();
  const problems: { index: number; message: string }[] = [];
  let allRoutes = false;
  for (const [index, entry] of routes.entries()) {
    let found: readonly CatalogueOperation[];
    if (entry === '*') {
      allRoutes = true;
      found = u.ceph;
    } else if (entry.startsWith('/')) {
      found = u.all.filter((op) => op.template === entry);
      if (found.length === 0) {
        problems.push({ index, message: `unknown route template ${entry}` });
        continue;
      }
    } else if (entry.includes(':')) {
      const [scope = '', perm = '', ...rest] = entry.split(':');
      const bad = globProblem(scope);
      if (rest.length > 0 || !PERMISSIONS.has(perm) || bad !== null) {
        problems.push({ index, message: `bad scope:permission ${entry}: permission is read, create, update, delete or *` });
        continue;
      }
      const re = compileGlobs([scope]);
      found = u.all.filter((op) => op.scope !== null && re.test(op.scope) && (perm === '*' || op.permission === perm));
      if (found.length === 0) {
        problems.push({ index, message: `unknown scope:permission ${entry}: no operation has it` });
        continue;
      }
    } else {
      const bad = globProblem(entry);
      if (bad !== null) {
        problems.push({ index, message: bad });
        continue;
      }
      const re = compileGlobs([entry]);
      found = u.all.filter((op) => re.test(op.id));
      if (found.length === 0) {
        problems.push({ index, message: `unknown operation ${entry}` });
        continue;
      }
    }
    for (const op of found) picked.set(`${op.method} ${op.template}`, op);
  }
  let ops = [...picked.values()];
  if (methods !== null) {
    const m = new Set<HttpMethod>(methods);
    ops = ops.filter((op) => m.has(op.method));
    if (ops.length === 0 && problems.length === 0 && !allRoutes)
      problems.push({ index: -1, message: `methods ${methods.join(', ')} match none of the routes` });
  }
  return { ops, allRoutes, problems };
}
