// `cephgate policy check|test|explain`: offline functions the CLI wires in. Each returns an exit code
// (0 ok, 1 failed/denied, 2 could not run) and prints one line per problem.

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadCatalogue } from '../ceph/catalogue.ts';
import type { CephRelease } from '../core/catalogue.ts';
import type { HttpMethod } from '../core/http.ts';
import type { AuthMethod } from '../core/principal.ts';
import { buildInput, runPolicyTests } from './case-runner.ts';
import type { CompiledPolicy } from './engine.ts';
import { loadPolicyDir, POLICY_FILE } from './files.ts';
import { formatIssue } from './model.ts';

export interface PolicyCliOptions {
  readonly dir: string;
  /** Releases whose catalogues define the known routes (default: all three). The first one matches test paths. */
  readonly releases?: readonly CephRelease[];
  /** Configured Ceph account names per cluster; omitted or null: accounts are not checked. */
  readonly accounts?: Readonly<Record<string, readonly string[]>> | null;
  readonly maxInspectBytes?: number;
  readonly defaultCluster?: string;
  readonly out?: (line: string) => void;
  readonly err?: (line: string) => void;
}

const ALL: readonly CephRelease[] = ['reef', 'pacific', 'tentacle'];

function load(o: PolicyCliOptions): CompiledPolicy | null {
  const err = o.err ?? console.error;
  const r = loadPolicyDir(o.dir, {
    catalogues: (o.releases ?? ALL).map(loadCatalogue),
    accounts: o.accounts ?? null,
    maxInspectBytes: o.maxInspectBytes ?? 1048576,
  });
  if (!r.ok) {
    for (const i of r.issues) err(formatIssue(i));
    return null;
  }
  return r.engine;
}

export function policyCheck(o: PolicyCliOptions): number {
  const engine = load(o);
  if (engine === null) return 1;
  (o.out ?? console.log)(`ok: ${engine.rules.length} rules, version ${engine.version}`);
  return 0;
}

export interface PolicyTestCliOptions extends PolicyCliOptions {
  /** Directory of test case files (default `<dir>/tests`). */
  readonly testsDir?: string;
}

export function policyTest(o: PolicyTestCliOptions): number {
  const out = o.out ?? console.log;
  const engine = load(o);
  if (engine === null) return 2;
  const testsDir = o.testsDir ?? join(o.dir, 'tests');
  let sources: { file: string; text: string }[];
  try {
    sources = readdirSync(testsDir)
      .filter((n) => POLICY_FILE.test(n))
      .sort()
      .map((n) => ({ file: join(testsDir, n), text: readFileSync(join(testsDir, n), 'utf8') }));
  } catch (e) {
    (o.err ?? console.error)(`${testsDir}: cannot read test cases: ${(e as Error).message}`);
    return 2;
  }
  const catalogue = loadCatalogue((o.releases ?? ALL)[0] ?? 'reef');
  const results = runPolicyTests({ engine, catalogue, sources, ...(o.defaultCluster === undefined ? {} : { defaultCluster: o.defaultCluster }) });
  const failed = results.filter((r) => !r.ok);
  for (const r of failed) out(`FAIL ${r.file}:${r.line}: ${r.name}: ${r.message}`);
  out(`${results.length - failed.length} passed, ${failed.length} failed`);
  return failed.length === 0 && results.length > 0 ? 0 : 1;
}

export interface PolicyExplainCliOptions extends PolicyCliOptions {
  readonly principal: { readonly id: string; readonly groups: readonly string[]; readonly method?: AuthMethod; readonly apiKey?: string };
  readonly method: HttpMethod;
  /** Raw request path as a client sends it, optionally with `?query`. */
  readonly path: string;
  readonly body?: Buffer;
  readonly contentType?: string;
  readonly cluster?: string;
  /** Print the explanation as JSON instead of lines. */
  readonly json?: boolean;
}

/** Exit code 0 when allowed, 1 when denied, 2 when it could not run. */
export function policyExplain(o: PolicyExplainCliOptions): number {
  const out = o.out ?? console.log;
  const engine = load(o);
  if (engine === null) return 2;
  const p = o.principal;
  const principal = {
    id: p.id,
    name: p.id,
    email: null,
    groups: p.groups,
    method: p.apiKey !== undefined ? ('api_key' as const) : (p.method ?? 'oidc_bearer'),
    authenticatedAt: new Date(),
    apiKeyName: p.apiKey ?? null,
    claims: {},
  };
  const input = buildInput(
    {
      method: o.method,
      path: o.path,
      ...(o.cluster === undefined ? {} : { cluster: o.cluster }),
      ...(o.contentType === undefined ? {} : { content_type: o.contentType }),
    },
    principal,
    { catalogue: loadCatalogue((o.releases ?? ALL)[0] ?? 'reef'), ...(o.defaultCluster === undefined ? {} : { defaultCluster: o.defaultCluster }) },
  );
  if (typeof input === 'string') {
    (o.err ?? console.error)(input);
    return 2;
  }
  const ex = engine.explain(o.body === undefined ? input : { ...input, body: o.body, contentType: o.contentType ?? 'application/json' });
  if (o.json === true) out(JSON.stringify(ex, null, 2));
  else {
    for (const r of ex.rules)
      out(`${r.matched ? 'MATCH' : 'no   '} ${r.effect} ${r.ruleId}${r.mode === 'shadow' ? ' (shadow)' : ''} [${r.file}:${r.line}]: ${r.reasons.join('; ')}`);
    out(`=> ${ex.decision.effect} (${ex.decision.reason})${ex.decision.cephAccount ? ` as ${ex.decision.cephAccount}` : ''}`);
  }
  return ex.decision.effect === 'allow' ? 0 : 1;
}
