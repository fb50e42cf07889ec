// Synthetic policy sets for the bench (src/policy/ has no helper for them): N rules in one of two shapes,
// always followed by the real policies/team-a.yaml rules so that the measured principal is decided last.
//  - `teams`: N/4 teams, each with team-a.yaml's four rules (deny OSD changes, read everything `*`, own pools,
//    own images). `*` rules land in every GET bucket, so this is the realistic worst case for the index.
//  - `spread`: every rule names one catalogue operation, round robin; the per-operation index keeps buckets small.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadCatalogue } from '../src/ceph/catalogue.ts';
import { createRouteMatcher } from '../src/ceph/route-matcher.ts';
import type { PolicyInput } from '../src/core/decision.ts';
import type { HttpMethod } from '../src/core/http.ts';
import type { Principal } from '../src/core/principal.ts';
import { parseRequestTarget } from '../src/intake/request-target.ts';
import { compilePolicySources } from '../src/policy/compile.ts';
import type { CompiledPolicy } from '../src/policy/engine.ts';
import type { PolicySource } from '../src/policy/parse.ts';
import { BENCH_DIR } from './proc.ts';

export type RuleShape = 'teams' | 'spread';
export const CLUSTER = 'main';
export const ACCOUNTS = ['reader', 'operator'] as const;

function teamRules(team: string): unknown[] {
  const subjects = { groups: [team] };
  return [
    { id: `${team}-never-osd`, effect: 'deny', subjects, routes: ['osd:create', 'osd:update', 'osd:delete'] },
    { id: `${team}-read-all`, effect: 'allow', subjects, methods: ['GET'], routes: ['*'], ceph_account: 'reader' },
    {
      id: `${team}-own-pools`,
      effect: 'allow',
      subjects,
      routes: ['Pool.create', 'Pool.set', 'Pool.delete'],
      when: { pools: { glob: `${team}-*` } },
      ceph_account: 'operator',
    },
    {
      id: `${team}-own-images`,
      effect: 'allow',
      subjects,
      routes: ['rbd-image:create', 'rbd-image:update', 'rbd-image:delete'],
      when: { pools: { glob: `${team}-*` } },
      ceph_account: 'operator',
    },
  ];
}

function spreadRules(n: number): unknown[] {
  const ops = loadCatalogue('pacific').operations.filter((op) => !op.unauthenticated);
  return Array.from({ length: n }, (_, i) => {
    const op = ops[i % ops.length];
    if (op === undefined) throw new Error('empty catalogue');
    return {
      id: `s${i}`,
      effect: i % 10 === 0 ? 'deny' : 'allow',
      subjects: { groups: [`sgroup-${i}`] },
      methods: [op.method],
      routes: [op.template],
      ...(i % 10 === 0 ? {} : { ceph_account: 'reader' }),
    };
  });
}

/** N synthetic rules (JSON is YAML, and parses much faster for 10,000 rules) plus the real team-a.yaml. */
export function syntheticSources(n: number, shape: RuleShape): PolicySource[] {
  const rules =
    shape === 'teams'
      ? Array.from({ length: Math.ceil(n / 4) }, (_, i) => teamRules(`steam-${i}`))
          .flat()
          .slice(0, n)
      : spreadRules(n);
  const teamA = readFileSync(join(BENCH_DIR, '..', 'policies', 'team-a.yaml'), 'utf8');
  return [
    { file: '00-synthetic.yaml', text: JSON.stringify({ rules }) },
    { file: 'team-a.yaml', text: teamA },
  ];
}

export function compileSynthetic(n: number, shape: RuleShape, maxInspectBytes = 1 << 20): CompiledPolicy {
  const r = compilePolicySources(syntheticSources(n, shape), {
    catalogues: [loadCatalogue('pacific')],
    accounts: { [CLUSTER]: [...ACCOUNTS] },
    maxInspectBytes,
  });
  if (!r.ok)
    throw new Error(
      `synthetic policy rejected: ${r.issues
        .slice(0, 3)
        .map((i) => i.message)
        .join('; ')}`,
    );
  return r.engine;
}

const principal = (name: string, groups: string[]): Principal => ({
  id: `https://idp.bench#${name}`,
  name,
  email: null,
  groups,
  method: 'oidc_bearer',
  authenticatedAt: new Date(),
  apiKeyName: null,
  claims: {},
});

/** The decisions the bench measures, as the pipeline builds them (real route matcher on real targets). */
export function benchInputs(): Record<'allow-get' | 'deny-get' | 'allow-post-body', PolicyInput> {
  const match = createRouteMatcher({ catalogues: new Map([[CLUSTER, loadCatalogue('pacific')]]), defaultCluster: CLUSTER, allowUnknown: new Map() });
  const input = (p: Principal, method: HttpMethod, raw: string, body: string | null): PolicyInput => {
    const target = parseRequestTarget(raw);
    return {
      principal: p,
      method,
      route: match(method, target),
      query: target.query,
      body: body === null ? null : Buffer.from(body),
      contentType: body === null ? null : 'application/json',
      now: new Date(),
    };
  };
  const alice = principal('alice', ['team-a']);
  return {
    'allow-get': input(alice, 'GET', '/api/pool', null),
    'deny-get': input(principal('bob', ['team-b']), 'GET', '/api/pool', null),
    'allow-post-body': input(
      alice,
      'POST',
      '/api/block/image',
      JSON.stringify({ pool_name: 'team-a-rbd', name: 'vm-disk-9', size: 1073741824, features: ['layering'] }),
    ),
  };
}
