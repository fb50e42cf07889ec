// Property tests: for random rule sets, principals and requests, the engine never allows when a
// matching enforced deny exists and never allows when no allow rule matches (checked against a
// naive reference built from explain's per-rule verdicts and an independent subject check).

import assert from 'node:assert/strict';
import { it } from 'node:test';
import fc from 'fast-check';
import { loadCatalogue } from '../../src/ceph/catalogue.ts';
import type { PolicyInput } from '../../src/core/decision.ts';
import type { Principal } from '../../src/core/principal.ts';
import { compilePolicySources } from '../../src/policy/compile.ts';

const reef = loadCatalogue('reef');
const OPS = ['Pool.create', 'Pool.delete', 'Pool.list', 'Rbd.create', 'Rbd.copy', 'Rbd.delete', 'OSD.list'] as const;
const GROUPS = ['g1', 'g2', 'g3'];
const POOLS = ['a-1', 'a-2', 'b-1', 'c'];

const ruleArb = fc.record({
  effect: fc.constantFrom('allow', 'deny'),
  groups: fc.option(fc.subarray(GROUPS, { minLength: 1 }), { nil: undefined }),
  ops: fc.subarray([...OPS], { minLength: 1 }),
  glob: fc.option(fc.constantFrom('a-*', 'b-*', '*', 'c'), { nil: undefined }),
  shadow: fc.boolean(),
});

const reqArb = fc.record({
  op: fc.constantFrom(...OPS),
  groups: fc.subarray(GROUPS),
  pools: fc.array(fc.constantFrom(...POOLS), { minLength: 1, maxLength: 3 }),
  mangle: fc.constantFrom('none', 'dup', 'broken'),
});

function toYaml(rules: { effect: string; groups: string[] | undefined; ops: string[]; glob: string | undefined; shadow: boolean }[]): string {
  return `rules:\n${rules
    .map(
      (r, i) =>
        `  - id: r${i}\n    effect: ${r.effect}\n    subjects: ${r.groups ? `{ groups: [${r.groups.join(', ')}] }` : "'*'"}\n    routes: [${r.ops.join(', ')}]\n` +
        (r.glob ? `    when: { pools: { glob: "${r.glob}" } }\n` : '') +
        (r.shadow ? '    mode: shadow\n' : ''),
    )
    .join('')}`;
}

function input(r: { op: string; groups: string[]; pools: string[]; mangle: string }): PolicyInput {
  const op = reef.byId(r.op)[0];
  assert.ok(op);
  const params: Record<string, string> = {};
  const [p0 = 'a-1', p1 = p0, p2 = p0] = r.pools;
  if (op.pathParams.includes('pool_name')) params.pool_name = p0;
  if (op.pathParams.includes('image_spec')) params.image_spec = `${p0}/img`;
  const fields = op.poolFields.map((f, i) => `"${f}": "${i === 0 ? p1 : p2}"`);
  let text = op.method === 'GET' || op.method === 'DELETE' ? null : `{${fields.join(', ')}}`;
  if (text !== null && r.mangle === 'dup' && fields[0]) text = `{${fields[0]}, ${fields.join(', ')}}`;
  if (text !== null && r.mangle === 'broken') text = text.slice(0, -1);
  const principal: Principal = {
    id: 'p',
    name: 'p',
    email: null,
    groups: r.groups,
    method: 'session',
    authenticatedAt: new Date(0),
    apiKeyName: null,
    claims: {},
  };
  return {
    principal,
    method: op.method,
    route: { cluster: 'default', operation: op, template: op.template, params },
    query: {},
    body: text === null ? null : Buffer.from(text),
    contentType: 'application/json',
    now: new Date(),
  };
}

it('never allows with a matching deny, never allows without a matching allow', () => {
  fc.assert(
    fc.property(fc.array(ruleArb, { maxLength: 12 }), reqArb, (rules, r) => {
      const c = compilePolicySources([{ file: 'p.yaml', text: toYaml(rules) }], { catalogues: [reef], accounts: null, maxInspectBytes: 4096 });
      assert.ok(c.ok, c.ok ? '' : c.issues[0]?.message);
      const i = input(r);
      const d = c.engine.decide(i);
      const ex = c.engine.explain(i);
      assert.deepEqual(ex.decision, d, 'explain and decide agree');
      const enforced = ex.rules.filter((e) => e.mode === 'enforce' && e.matched);
      if (enforced.some((e) => e.effect === 'deny')) assert.equal(d.effect, 'deny');
      if (!enforced.some((e) => e.effect === 'allow')) assert.equal(d.effect, 'deny');
      // Independent of explain: an allow needs a rule naming the operation for one of the principal's groups.
      if (d.effect === 'allow') {
        const rule = rules[Number(d.ruleId?.slice(1))];
        assert.ok(rule && rule.effect === 'allow' && !rule.shadow && rule.ops.includes(r.op));
        assert.ok(rule.groups === undefined || rule.groups.some((g) => r.groups.includes(g)));
        assert.equal(r.mangle === 'none' || i.body === null || rule.glob === undefined, true, 'a mangled body never earns a pool allow');
        if (rule.glob === 'a-*' || rule.glob === 'b-*' || rule.glob === 'c') {
          const op = reef.byId(r.op)[0];
          const [p0 = 'a-1', p1 = p0, p2 = p0] = r.pools;
          const named = [
            ...(op?.pathParams.some((x) => x === 'pool_name' || x === 'image_spec') ? [p0] : []),
            ...(i.body === null ? [] : [p1, p2].slice(0, op?.poolFields.length)),
          ];
          const re = new RegExp(`^${rule.glob.replace('*', '.*')}$`);
          assert.ok(named.length > 0 && named.every((p) => re.test(p)), `every named pool fits ${rule.glob}: ${named}`);
        }
      }
    }),
    { numRuns: 500 },
  );
});
