// Turns parsed rules into a CompiledPolicy: validates them against the catalogue and configured
// accounts (every problem at once, each naming file, line and rule), precompiles conditions,
// indexes rules by operation and computes the policy version (sha-256 of the canonical rule set).

import { createHash } from 'node:crypto';
import type { HttpMethod } from '../core/http.ts';
import type { Bucket } from './bucket.ts';
import { compileCondition } from './conditions.ts';
import { CompiledPolicy, opKey } from './engine.ts';
import type { CompiledCondition, CompiledRule, PolicyLoadIssue, PolicyLoadOptions } from './model.ts';
import { type ParsedRule, type PolicySource, parsePolicySources } from './parse.ts';
import { OperationUniverse, resolveRoutes } from './resolve.ts';

export type CompileResult = { readonly ok: true; readonly engine: CompiledPolicy } | { readonly ok: false; readonly issues: readonly PolicyLoadIssue[] };

/** Parses, validates and compiles policy sources (files in name order, rules in file order). */
export function compilePolicySources(sources: readonly PolicySource[], opts: PolicyLoadOptions): CompileResult {
  const parsed = parsePolicySources(sources);
  const issues: PolicyLoadIssue[] = [...parsed.issues];
  const universe = new OperationUniverse(opts.catalogues);
  const seen = new Map<string, ParsedRule>();
  const compiled: { rule: CompiledRule; keys: string[] }[] = [];
  for (const pr of parsed.rules) {
    const r = pr.raw;
    const problem = (path: readonly (string | number)[], message: string) => issues.push({ file: pr.file, line: pr.lineOf(path), ruleId: r.id, message });
    const before = issues.length;
    const first = seen.get(r.id);
    if (first !== undefined) problem(['id'], `duplicate rule id (first defined at ${first.file}:${first.line})`);
    else seen.set(r.id, pr);
    const methods = r.methods === undefined || r.methods.includes('*') ? null : (r.methods.filter((m) => m !== '*') as HttpMethod[]);
    const routes = resolveRoutes(universe, r.routes, methods);
    for (const p of routes.problems) problem(p.index < 0 ? ['methods'] : ['routes', p.index], p.message);
    const conditions: CompiledCondition[] = [];
    for (const [field, raw] of Object.entries(r.when ?? {})) {
      const c = compileCondition(field, raw, routes.allRoutes ? null : routes.ops);
      if (typeof c === 'string') problem(['when', field], c);
      else conditions.push(c);
    }
    const account = r.ceph_account ?? null;
    if (account !== null && r.effect === 'deny') problem(['ceph_account'], 'a deny rule cannot name a ceph_account');
    if (opts.accounts !== null) {
      const known = opts.accounts;
      for (const c of r.clusters ?? []) if (!Object.hasOwn(known, c)) problem(['clusters'], `unknown cluster ${c}`);
      if (account !== null) {
        const clusters = r.clusters ?? Object.keys(known);
        const missing = clusters.filter((c) => Object.hasOwn(known, c) && !known[c]?.includes(account));
        if (missing.length > 0 || clusters.length === 0)
          problem(['ceph_account'], `unknown Ceph account ${account}${missing.length > 0 ? ` in cluster ${missing.join(', ')}` : ''}`);
      }
    }
    if (issues.length > before) continue;
    const subj = r.subjects;
    const set = <T>(xs: readonly T[] | undefined): ReadonlySet<T> | null => (xs === undefined ? null : new Set(xs));
    const rule: CompiledRule = {
      id: r.id,
      effect: r.effect,
      description: r.description ?? '',
      shadow: r.mode === 'shadow',
      subjects:
        subj === '*'
          ? { any: true, groups: null, principals: null, authMethods: null, apiKeys: null }
          : { any: false, groups: set(subj.groups), principals: set(subj.principals), authMethods: set(subj.auth_methods), apiKeys: set(subj.api_keys) },
      methods: methods === null ? null : new Set(methods),
      routes: r.routes,
      allRoutes: routes.allRoutes,
      clusters: set(r.clusters),
      conditions,
      cephAccount: account,
      readsBody: conditions.some((c) => c.ref.kind === 'body' || c.ref.kind === 'pools'),
      pos: { file: pr.file, line: pr.line },
      order: compiled.length,
    };
    compiled.push({ rule, keys: routes.ops.map((op) => opKey(op.method, op.template)) });
  }
  if (issues.length > 0) return { ok: false, issues };
  const index = new Map<string, { deny: CompiledRule[]; allow: CompiledRule[]; shadow: CompiledRule[] }>();
  const unknown: { deny: CompiledRule[]; allow: CompiledRule[]; shadow: CompiledRule[] } = { deny: [], allow: [], shadow: [] };
  const put = (b: typeof unknown, rule: CompiledRule) => (rule.shadow ? b.shadow : rule.effect === 'deny' ? b.deny : b.allow).push(rule);
  for (const { rule, keys } of compiled) {
    for (const k of keys) {
      let b = index.get(k);
      if (b === undefined) {
        b = { deny: [], allow: [], shadow: [] };
        index.set(k, b);
      }
      put(b, rule);
    }
    if (rule.allRoutes) put(unknown, rule);
  }
  const rules = compiled.map((c) => c.rule);
  const version = policyVersion(parsed.rules);
  return { ok: true, engine: new CompiledPolicy(version, rules, index as ReadonlyMap<string, Bucket>, unknown, opts.maxInspectBytes) };
}

/** sha-256 over the rules in evaluation order with sorted keys: comments and formatting do not change it. */
export function policyVersion(rules: readonly ParsedRule[]): string {
  const canon = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(canon)
      : v !== null && typeof v === 'object'
        ? Object.fromEntries(
            Object.keys(v)
              .sort()
              .map((k) => [k, canon((v as Record<string, unknown>)[k])]),
          )
        : v;
  return createHash('sha256')
    .update(JSON.stringify(rules.map((r) => canon(r.raw))))
    .digest('hex');
}
