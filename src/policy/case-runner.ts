// Policy test cases kept next to the policies (`policies/tests/*.yaml`): a principal, a request as a
// client sends it (raw path, query, body) and the expected decision. `cephgate policy test` runs them.

import { LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import type { CatalogueOperation, RouteMatch } from '../core/catalogue.ts';
import type { PolicyInput } from '../core/decision.ts';
import type { HttpMethod } from '../core/http.ts';
import type { Principal } from '../core/principal.ts';
import type { CompiledPolicy } from './engine.ts';
import { GATEWAY_OPERATIONS } from './gateway-operations.ts';
import type { PolicySource } from './parse.ts';
import { AUTH_METHODS, HTTP_METHODS } from './schema.ts';

/** What runPolicyTests needs from the route catalogue (ceph/catalogue.ts's RouteCatalogue fits). */
export interface MatchingCatalogue {
  match(method: HttpMethod, segments: readonly string[]): { readonly operation: CatalogueOperation; readonly params: Readonly<Record<string, string>> } | null;
}

const principalSchema = z
  .object({
    id: z.string().optional(),
    name: z.string().optional(),
    groups: z.array(z.string()).default([]),
    method: z.enum(AUTH_METHODS).default('oidc_bearer'),
    api_key: z.string().optional(),
    claims: z.record(z.string(), z.unknown()).default({}),
  })
  .strict();

const caseSchema = z
  .object({
    name: z.string().min(1),
    principal: z.union([z.string(), principalSchema]),
    request: z
      .object({
        method: z.enum(HTTP_METHODS),
        path: z.string().startsWith('/'),
        cluster: z.string().optional(),
        body: z.unknown().optional(),
        content_type: z.string().optional(),
        now: z.string().datetime().optional(),
      })
      .strict(),
    expect: z.object({ effect: z.enum(['allow', 'deny']), rule: z.string().nullable().optional(), ceph_account: z.string().nullable().optional() }).strict(),
  })
  .strict();

const fileSchema = z.object({ principals: z.record(z.string(), principalSchema).default({}), cases: z.array(z.unknown()).min(1) }).strict();

export interface PolicyTestResult {
  readonly file: string;
  readonly line: number;
  readonly name: string;
  readonly ok: boolean;
  /** What went wrong (a failed expectation or a broken case). */
  readonly message: string;
}

export interface PolicyTestOptions {
  readonly engine: CompiledPolicy;
  readonly catalogue: MatchingCatalogue;
  readonly sources: readonly PolicySource[];
  readonly defaultCluster?: string;
}

export function runPolicyTests(opts: PolicyTestOptions): PolicyTestResult[] {
  const out: PolicyTestResult[] = [];
  for (const src of opts.sources) {
    const lc = new LineCounter();
    const doc = parseDocument(src.text, { lineCounter: lc, uniqueKeys: true });
    const lineOf = (path: (string | number)[]) => {
      const n = doc.getIn(path, true) as { range?: [number, number, number] } | undefined;
      return n?.range ? lc.linePos(n.range[0]).line : 1;
    };
    const broken = (line: number, name: string, message: string) => out.push({ file: src.file, line, name, ok: false, message });
    if (doc.errors.length > 0) {
      broken(doc.errors[0]?.linePos?.[0].line ?? 1, '(file)', doc.errors[0]?.message.split('\n')[0] ?? 'bad YAML');
      continue;
    }
    const file = fileSchema.safeParse(doc.toJS());
    if (!file.success) {
      broken(1, '(file)', z.prettifyError(file.error).replace(/\n/g, ' '));
      continue;
    }
    for (const [i, raw] of file.data.cases.entries()) {
      const line = lineOf(['cases', i]);
      const c = caseSchema.safeParse(raw);
      if (!c.success) {
        broken(line, `case #${i + 1}`, z.prettifyError(c.error).replace(/\n/g, ' '));
        continue;
      }
      const tc = c.data;
      const p = typeof tc.principal === 'string' ? file.data.principals[tc.principal] : tc.principal;
      if (p === undefined) {
        broken(line, tc.name, `unknown principal ${String(tc.principal)}`);
        continue;
      }
      const input = buildInput(tc.request, toPrincipal(p, typeof tc.principal === 'string' ? tc.principal : 'test'), opts);
      if (typeof input === 'string') {
        broken(line, tc.name, input);
        continue;
      }
      const d = opts.engine.decide(input);
      const problems: string[] = [];
      if (d.effect !== tc.expect.effect) problems.push(`expected ${tc.expect.effect}, got ${d.effect} (${d.reason})`);
      if (tc.expect.rule !== undefined && d.ruleId !== tc.expect.rule) problems.push(`expected rule ${tc.expect.rule ?? 'none'}, got ${d.ruleId ?? 'none'}`);
      if (tc.expect.ceph_account !== undefined && d.cephAccount !== tc.expect.ceph_account)
        problems.push(`expected ceph_account ${tc.expect.ceph_account}, got ${d.cephAccount}`);
      out.push({ file: src.file, line, name: tc.name, ok: problems.length === 0, message: problems.join('; ') });
    }
  }
  return out;
}

function toPrincipal(p: z.infer<typeof principalSchema>, key: string): Principal {
  return {
    id: p.id ?? key,
    name: p.name ?? key,
    email: null,
    groups: p.groups,
    method: p.api_key !== undefined ? 'api_key' : p.method,
    authenticatedAt: new Date(0),
    apiKeyName: p.api_key ?? null,
    claims: p.claims,
  };
}

type TestRequest = z.infer<typeof caseSchema>['request'];

/** Builds the PolicyInput the gateway would: catalogue match on the raw segments, decoded query. */
export function buildInput(req: TestRequest, principal: Principal, opts: Pick<PolicyTestOptions, 'catalogue' | 'defaultCluster'>): PolicyInput | string {
  const q = req.path.indexOf('?');
  const rawPath = q < 0 ? req.path : req.path.slice(0, q);
  const query: Record<string, string[]> = {};
  for (const [k, v] of new URLSearchParams(q < 0 ? '' : req.path.slice(q + 1))) query[k] = [...(query[k] ?? []), v];
  const cluster = req.cluster ?? opts.defaultCluster ?? 'default';
  let route: RouteMatch;
  const gw = Object.values(GATEWAY_OPERATIONS).find((op) => op.template === rawPath);
  if (gw !== undefined) route = { cluster, operation: gw, template: gw.template, params: {} };
  else {
    const m = opts.catalogue.match(req.method, rawPath.split('/').slice(1));
    if (m === null) return `${req.method} ${rawPath} matches no catalogue operation`;
    route = { cluster, operation: m.operation, template: m.operation.template, params: m.params };
  }
  const body = req.body === undefined ? null : Buffer.from(typeof req.body === 'string' ? req.body : JSON.stringify(req.body));
  return {
    principal,
    method: gw?.method ?? req.method,
    route,
    query,
    body,
    contentType: req.content_type ?? (body === null ? null : 'application/json'),
    now: req.now === undefined ? new Date() : new Date(req.now),
  };
}
