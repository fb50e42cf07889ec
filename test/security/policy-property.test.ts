// Property test of policy evaluation against Ceph's own argument merge (extends
// test/unit/policy-property.test.ts, which checks deny-wins and default-deny on well-formed bodies):
// for random rule sets, principals and requests that name pools through every channel Ceph reads
// (path, query, JSON body under each Content-Type and method), an allow by a pool rule means every pool
// Ceph will act on fits the rule, and a deny whose pools match any pool Ceph acts on always wins.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { loadCatalogue } from '../../src/ceph/catalogue.ts';
import type { PolicyInput } from '../../src/core/decision.ts';
import type { HttpMethod } from '../../src/core/http.ts';
import type { Principal } from '../../src/core/principal.ts';
import { compilePolicySources } from '../../src/policy/compile.ts';
import { FC_SEED, fcParams } from './support.ts';

const cat = loadCatalogue('pacific');
const OPS = ['Pool.create', 'Pool.set', 'Pool.delete', 'Pool.get', 'Rbd.create', 'Rbd.delete', 'Rbd.set', 'Rbd.copy'] as const;
const GROUPS = ['g1', 'g2'];
const POOLS = ['a-1', 'a-2', 'b-1', 'c'];
const GLOBS = ['a-*', 'b-*', 'c'];
const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'text/javascript',
  'Application/JSON',
  'application/x-www-form-urlencoded',
  'text/plain',
  null,
];

const ruleArb = fc.record({
  effect: fc.constantFrom('allow', 'deny'),
  groups: fc.option(fc.subarray(GROUPS, { minLength: 1 }), { nil: undefined }),
  ops: fc.subarray([...OPS], { minLength: 1 }),
  glob: fc.option(fc.constantFrom(...GLOBS), { nil: undefined }),
});

const reqArb = fc.record({
  op: fc.constantFrom(...OPS),
  groups: fc.subarray(GROUPS),
  pathPool: fc.constantFrom(...POOLS),
  query: fc.array(fc.tuple(fc.constantFrom('pool', 'pool_name', 'data_pool', 'dest_pool_name', 'image_spec', 'x'), fc.constantFrom(...POOLS)), {
    maxLength: 2,
  }),
  body: fc.option(fc.dictionary(fc.constantFrom('pool', 'pool_name', 'data_pool', 'dest_pool_name', 'image_spec', 'name', 'size'), fc.constantFrom(...POOLS)), {
    nil: null,
  }),
  contentType: fc.constantFrom(...CONTENT_TYPES),
});

type Req = typeof reqArb extends fc.Arbitrary<infer T> ? T : never;

/** Ceph 16.2.15's merge (dashboard _request_wrapper): path, then query over it, then the JSON body over both. */
function cephArgs(r: Req, method: HttpMethod, pathParams: Record<string, string>): Record<string, string[]> {
  const args: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(pathParams)) args[k] = [v];
  const q: Record<string, string[]> = {};
  for (const [k, v] of r.query) (q[k] ??= []).push(v);
  Object.assign(args, q);
  const jsonRead = ['POST', 'PUT', 'PATCH'].includes(method) && (r.contentType === 'application/json' || r.contentType === 'text/javascript');
  if (jsonRead && r.body !== null) for (const [k, v] of Object.entries(r.body)) args[k] = [v];
  return args;
}

/** Pools Ceph acts on: the pool-naming arguments the handler takes (an unknown one is a TypeError, not an action). */
function cephPools(args: Record<string, string[]>, takes: ReadonlySet<string>): string[] {
  const out: string[] = [];
  for (const [k, vs] of Object.entries(args)) {
    if (!takes.has(k)) continue;
    for (const v of vs) {
      if (k === 'image_spec') out.push(v.split('/')[0] as string);
      else if (['pool', 'pool_name', 'data_pool', 'dest_pool_name'].includes(k)) out.push(v);
    }
  }
  return out;
}

test('a pool rule never allows what Ceph would do to another pool; a matching deny always wins', () => {
  fc.assert(
    fc.property(fc.array(ruleArb, { maxLength: 8 }), reqArb, (rules, r) => {
      const yaml = `rules:\n${rules.map((x, i) => `  - id: r${i}\n    effect: ${x.effect}\n    subjects: ${x.groups ? `{ groups: [${x.groups.join(', ')}] }` : "'*'"}\n    routes: [${x.ops.join(', ')}]\n${x.glob ? `    when: { pools: { glob: "${x.glob}" } }\n` : ''}`).join('')}`;
      const c = compilePolicySources([{ file: 'p.yaml', text: yaml }], { catalogues: [cat], accounts: null, maxInspectBytes: 4096 });
      assert.ok(c.ok, c.ok ? '' : c.issues[0]?.message);
      const op = cat.byId(r.op)[0];
      assert.ok(op);
      const params: Record<string, string> = {};
      if (op.pathParams.includes('pool_name')) params.pool_name = r.pathPool;
      if (op.pathParams.includes('image_spec')) params.image_spec = `${r.pathPool}/img`;
      const query: Record<string, string[]> = {};
      for (const [k, v] of r.query) (query[k] ??= []).push(k === 'image_spec' ? `${v}/img` : v);
      const body =
        r.body === null
          ? null
          : Buffer.from(JSON.stringify(Object.fromEntries(Object.entries(r.body).map(([k, v]) => [k, k === 'image_spec' ? `${v}/img` : v]))));
      const principal: Principal = {
        id: 'p',
        name: 'p',
        email: null,
        groups: r.groups,
        method: 'oidc_bearer',
        authenticatedAt: new Date(0),
        apiKeyName: null,
        claims: {},
      };
      const input: PolicyInput = {
        principal,
        method: op.method,
        route: { cluster: 'default', operation: op, template: op.template, params },
        query,
        body,
        contentType: r.contentType,
        now: new Date(),
      };
      const d = c.engine.decide(input);
      const acted = cephPools(
        cephArgs(
          {
            ...r,
            query: r.query.map(([k, v]) => [k, k === 'image_spec' ? `${v}/img` : v]),
            body: r.body === null ? null : Object.fromEntries(Object.entries(r.body).map(([k, v]) => [k, k === 'image_spec' ? `${v}/img` : v])),
          },
          op.method,
          params,
        ),
        new Set([...op.pathParams, ...op.poolFields, ...op.queryParams, ...op.bodyFields]),
      );
      const inGroups = (x: (typeof rules)[number]) => x.groups === undefined || x.groups.some((g) => r.groups.includes(g));
      const fits = (glob: string, p: string) => new RegExp(`^${glob.replace('*', '.*')}$`).test(p);
      // A deny naming this operation for this principal whose pools match a pool Ceph acts on always wins.
      for (const x of rules) {
        if (x.effect === 'deny' && inGroups(x) && x.ops.includes(r.op) && (x.glob === undefined || acted.some((p) => fits(x.glob as string, p)))) {
          assert.equal(d.effect, 'deny', `deny ${JSON.stringify(x)} skipped; Ceph acts on ${acted}`);
        }
      }
      if (d.effect !== 'allow') return;
      const rule = rules[Number(d.ruleId?.slice(1))];
      assert.ok(rule && rule.effect === 'allow' && inGroups(rule) && rule.ops.includes(r.op), 'an allow comes from a matching allow rule');
      if (rule.glob !== undefined) {
        for (const p of acted) assert.ok(fits(rule.glob, p), `allowed by ${rule.glob} but Ceph acts on ${p} (${acted})`);
      }
    }),
    fcParams(Number(process.env.CEPHGATE_FC_RUNS ?? 3000)),
  );
  void FC_SEED;
});
