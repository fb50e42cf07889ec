// Synthetic policy sets for the bench harness and the speed test: N rules spread over the catalogue's
// operations (group subjects, pool globs, one deny in ten), plus matching sample requests.

import type { PolicyInput } from '../core/decision.ts';
import type { Principal } from '../core/principal.ts';
import { compilePolicySources } from './compile.ts';
import type { CompiledPolicy } from './engine.ts';
import type { PolicyCatalogue } from './model.ts';
import type { PolicySource } from './parse.ts';

export function syntheticPolicySources(n: number, catalogue: PolicyCatalogue): PolicySource[] {
  const ops = catalogue.operations.filter((op) => !op.unauthenticated);
  const lines = ['rules:'];
  for (let i = 0; i < n; i++) {
    const op = ops[i % ops.length];
    if (op === undefined) break;
    const effect = i % 10 === 9 ? 'deny' : 'allow';
    lines.push(`  - id: r${i}`, `    effect: ${effect}`, `    subjects: { groups: [g${i % 50}] }`, `    routes: ["${op.method === 'GET' ? op.template : op.id}"]`);
    if (op.method !== 'GET' || !op.id.includes('.')) lines.push(`    methods: [${op.method}]`);
    const poolish = op.pathParams.includes('pool_name') || op.pathParams.includes('image_spec') || op.poolFields.length > 0;
    if (poolish) lines.push('    when:', `      pools: { glob: "team-${i % 7}-*" }`);
    if (effect === 'allow') lines.push('    ceph_account: operator');
  }
  return [{ file: `synthetic-${n}.yaml`, text: `${lines.join('\n')}\n` }];
}

const principal = (i: number): Principal => ({
  id: `user-${i}`,
  name: `user-${i}`,
  email: null,
  groups: [`g${i % 50}`, `g${(i * 7) % 50}`],
  method: 'oidc_bearer',
  authenticatedAt: new Date(0),
  apiKeyName: null,
  claims: {},
});

/** A compiled set of N synthetic rules and `samples` requests over the catalogue (for bench/run.ts). */
export function buildSyntheticPolicy(n: number, catalogue: PolicyCatalogue, samples = 1000): { engine: CompiledPolicy; inputs: PolicyInput[] } {
  const r = compilePolicySources(syntheticPolicySources(n, catalogue), { catalogues: [catalogue], accounts: null, maxInspectBytes: 1048576 });
  if (!r.ok) throw new Error(`synthetic policy rejected: ${r.issues[0]?.message}`);
  const ops = catalogue.operations.filter((op) => !op.unauthenticated);
  const inputs: PolicyInput[] = [];
  for (let i = 0; i < samples; i++) {
    const op = ops[(i * 13) % ops.length];
    if (op === undefined) break;
    const params: Record<string, string> = {};
    for (const p of op.pathParams) params[p] = p === 'image_spec' ? `team-${i % 7}-p/img` : `team-${i % 7}-x`;
    const body = op.poolFields.length > 0 ? Buffer.from(JSON.stringify(Object.fromEntries(op.poolFields.map((f) => [f, `team-${i % 7}-y`])))) : null;
    inputs.push({
      principal: principal(i),
      method: op.method,
      route: { cluster: 'default', operation: op, template: op.template, params },
      query: {},
      body,
      contentType: body === null ? null : 'application/json',
      now: new Date(),
    });
  }
  return { engine: r.engine, inputs };
}
