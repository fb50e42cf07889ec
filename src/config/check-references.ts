// References between keys and names that must be unique: a cluster's default account is one of its
// accounts, the default cluster and the browser login's issuer exist, no two clusters, accounts or
// issuers share a name. Written once: the schema runs it on a parsed configuration (so loadConfig
// refuses these too), and the config check runs it on whatever parsed when the schema did not.

import type { ClusterConfig } from './ceph.ts';
import { type ConfigProblem, error, warning } from './check-problem.ts';
import type { KeyPath } from './check-source.ts';
import type { BrowserLoginConfig, IssuerConfig } from './identity.ts';
import type { RateLimitsConfig } from './rate-limits.ts';

export interface Named<T> {
  readonly path: KeyPath;
  /** null: this element did not parse (the schema said why); only its name is known. */
  readonly value: T | null;
  readonly name: string | undefined;
}

export interface ReferenceInput {
  readonly clusters: readonly Named<ClusterConfig>[];
  readonly defaultCluster: string | undefined;
  readonly issuers: readonly Named<IssuerConfig>[];
  readonly browserLogin: BrowserLoginConfig | null | undefined;
  /** null: the section did not parse (the schema said why). */
  readonly rateLimits: RateLimitsConfig | null;
}

/** Each name seen before gets a problem at its own path. */
function duplicates(items: readonly { path: KeyPath; name: string | undefined }[], what: string, key = 'name', where = ''): ConfigProblem[] {
  const first = new Map<string, KeyPath>();
  const out: ConfigProblem[] = [];
  for (const it of items) {
    if (it.name === undefined) continue;
    if (first.has(it.name)) out.push(error([...it.path, key], `duplicate ${what} ${it.name}${where}`));
    else first.set(it.name, it.path);
  }
  return out;
}

function clusterReferences(c: Named<ClusterConfig>): ConfigProblem[] {
  const v = c.value;
  if (v === null) return [];
  const out = duplicates(
    v.accounts.map((a, j) => ({ path: [...c.path, 'accounts', j], name: a.name })),
    'account name',
    'name',
    ` in cluster ${v.name}`,
  );
  if (v.default_account !== undefined && !v.accounts.some((a) => a.name === v.default_account))
    out.push(error([...c.path, 'default_account'], `no account named ${v.default_account}`));
  const origins = v.dashboards.map((u, j) => {
    try {
      return { path: [...c.path, 'dashboards', j], name: new URL(u).origin };
    } catch {
      return { path: [...c.path, 'dashboards', j], name: undefined };
    }
  });
  out.push(...duplicates(origins, 'dashboard').map((p) => warning(p.path.slice(0, -1), `${p.message}: listed twice, probed twice`)));
  return out;
}

export function referenceProblems(r: ReferenceInput): ConfigProblem[] {
  const out = duplicates(r.clusters, 'cluster name');
  for (const c of r.clusters) out.push(...clusterReferences(c));
  if (r.defaultCluster !== undefined && !r.clusters.some((c) => c.name === r.defaultCluster))
    out.push(error(['ceph', 'default_cluster'], `no cluster named ${r.defaultCluster}`));
  out.push(...duplicates(r.issuers, 'issuer name'));
  out.push(
    ...duplicates(
      r.issuers.map((i) => ({ path: i.path, name: i.value?.issuer })),
      'issuer',
      'issuer',
    ),
  );
  const bl = r.browserLogin;
  if (bl?.enabled === true && !r.issuers.some((i) => i.name === bl.issuer))
    out.push(error(['identity', 'browser_login', 'issuer'], `no issuer named ${bl.issuer}`));
  out.push(...rateLimitReferences(r));
  return out;
}

/** Rate-limit rules and cluster budgets name configured clusters; rule names are unique (they are the policies clients see). */
function rateLimitReferences(r: ReferenceInput): ConfigProblem[] {
  const rl = r.rateLimits;
  if (rl === null || r.clusters.some((c) => c.value === null)) return [];
  const known = new Set(r.clusters.map((c) => c.name));
  const out = duplicates(
    rl.rules.map((rule, i) => ({ path: ['rate_limits', 'rules', i], name: rule.name })),
    'rate-limit rule name',
  );
  rl.rules.forEach((rule, i) => {
    rule.clusters.forEach((c, j) => {
      if (!known.has(c)) out.push(error(['rate_limits', 'rules', i, 'clusters', j], `no cluster named ${c}`));
    });
  });
  rl.clusters.forEach((b, i) => {
    if (!known.has(b.cluster)) out.push(error(['rate_limits', 'clusters', i, 'cluster'], `no cluster named ${b.cluster}`));
  });
  out.push(
    ...duplicates(
      rl.clusters.map((b, i) => ({ path: ['rate_limits', 'clusters', i], name: b.cluster })),
      'cluster budget for',
      'cluster',
    ),
  );
  return out;
}
