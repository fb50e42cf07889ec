// The permissions the dashboard web UI is told about for a signed-in person: for each Ceph scope and
// permission, granted when some operation of that scope and permission could be allowed to them by the
// policy (ignoring conditions: the UI then hides only what can never succeed) AND the Ceph account that
// would serve it has that permission in Ceph. The UI hides menus and buttons by these; every call is
// still decided one by one.

import { UI_BACKGROUND_READS } from '../ceph/ui-assets.ts';
import type { CatalogueOperation } from '../core/catalogue.ts';
import type { Principal } from '../core/principal.ts';
import type { CompiledPolicy } from './engine.ts';

export type CephPermissions = Record<string, string[]>;

export interface UiPermissionsInput {
  readonly engine: Pick<CompiledPolicy, 'couldAllow'>;
  readonly operations: readonly CatalogueOperation[];
  readonly principal: Principal;
  readonly cluster: string;
  /** The cluster's default account, for rules that name none. */
  readonly defaultAccount: string | null;
  /** What Ceph's login answer says an account may do (`{scope: [permission, ...]}`). */
  readonly accountPermissions: (account: string) => Promise<Readonly<Record<string, readonly string[]>>>;
}

export async function dashboardPermissions(i: UiPermissionsInput): Promise<CephPermissions> {
  const granted = new Map<string, Set<string>>();
  const accounts = new Map<string, Readonly<Record<string, readonly string[]>>>();
  for (const op of i.operations) {
    if (op.scope === null || op.permission === null || op.unauthenticated || UI_BACKGROUND_READS.has(op.id)) continue;
    if (granted.get(op.scope)?.has(op.permission) === true) continue;
    const allowed = i.engine.couldAllow(i.principal, i.cluster, op);
    const account = allowed === undefined ? null : (allowed.cephAccount ?? i.defaultAccount);
    if (account === null) continue;
    if (!accounts.has(account)) accounts.set(account, await i.accountPermissions(account).catch(() => ({})));
    if (!(accounts.get(account)?.[op.scope] ?? []).includes(op.permission)) continue;
    granted.set(op.scope, (granted.get(op.scope) ?? new Set()).add(op.permission));
  }
  // The UI's own order of permissions; scopes without any are left out (the UI treats them as none).
  const ORDER = ['read', 'create', 'update', 'delete'];
  return Object.fromEntries([...granted].sort(([a], [b]) => a.localeCompare(b)).map(([scope, perms]) => [scope, ORDER.filter((p) => perms.has(p))]));
}
