// Rate limits without a store: which counters a request spends (rules by subject, cluster, route and kind;
// partitions by principal, group, API key, cluster), the draft's header fields, and the configuration.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { rateLimitsConfigSchema } from '../../src/config/rate-limits.ts';
import type { RouteMatch } from '../../src/core/catalogue.ts';
import type { Principal } from '../../src/core/principal.ts';
import { rateLimitHeaders } from '../../src/limits/headers.ts';
import { spendsOf } from '../../src/limits/match.ts';

const who = (over: Partial<Principal> = {}): Principal => ({
  id: 'iss#alice',
  name: 'alice',
  email: null,
  groups: ['team-a', 'readers'],
  method: 'oidc_bearer',
  authenticatedAt: new Date(0),
  apiKeyName: null,
  claims: {},
  ...over,
});
const route = (template: string, id: string | null, cluster = 'main'): RouteMatch =>
  ({ cluster, template, params: {}, operation: id === null ? null : { id } }) as unknown as RouteMatch;

const config = (raw: unknown) => rateLimitsConfigSchema.parse(raw);

test('config: defaults, a rule needs a budget, names are unique', () => {
  const d = config(undefined);
  assert.deepEqual(d, { enabled: false, store: 'memory', instances: 1, headers: true, rules: [], clusters: [] });
  const r = config({ enabled: true, rules: [{ name: 'r', reads: { requests: 5 } }], clusters: [{ cluster: 'main', requests_per_second: 500 }] });
  assert.deepEqual(r.rules[0]?.reads, { requests: 5, window_seconds: 1 });
  assert.equal(r.rules[0]?.per, 'principal');
  assert.deepEqual(r.clusters[0], { cluster: 'main', requests_per_second: 500, queue_ms: 250, max_queue: 1000, status: 503 });
  assert.equal(rateLimitsConfigSchema.safeParse({ rules: [{ name: 'r' }] }).success, false);
  assert.equal(
    rateLimitsConfigSchema.safeParse({
      rules: [
        { name: 'r', reads: { requests: 1 } },
        { name: 'r', mutations: { requests: 1 } },
      ],
    }).success,
    false,
  );
  assert.equal(rateLimitsConfigSchema.safeParse({ rules: [{ name: 'has space', reads: { requests: 1 } }] }).success, false);
});

test('reads and mutations spend separate budgets; a rule without one for the kind does not apply', () => {
  const { rules } = config({
    rules: [
      { name: 'both', reads: { requests: 100 }, mutations: { requests: 10 } },
      { name: 'writes', mutations: { requests: 2 } },
    ],
  });
  const get = spendsOf(rules, who(), route('/api/osd', 'Osd.list'), 'GET');
  assert.deepEqual(
    get.map((s) => [s.key, s.budget.requests]),
    [['both/read/main/principal:iss#alice', 100]],
  );
  const post = spendsOf(rules, who(), route('/api/pool', 'Pool.create'), 'POST');
  assert.deepEqual(
    post.map((s) => s.key),
    ['both/mutation/main/principal:iss#alice', 'writes/mutation/main/principal:iss#alice'],
  );
  assert.equal(spendsOf(rules, who(), route('/api/osd', 'Osd.list'), 'HEAD')[0]?.kind, 'read');
});

test('subjects, clusters and routes select rules; partitions by group, API key, cluster and rule', () => {
  const { rules } = config({
    rules: [
      { name: 'team-a', subjects: { groups: ['team-a'] }, per: 'group', reads: { requests: 50 } },
      { name: 'any-group', per: 'group', reads: { requests: 500 } },
      { name: 'keys', subjects: { auth_methods: ['api_key'] }, per: 'api_key', reads: { requests: 5 } },
      { name: 'osd', routes: ['Osd.list', 'GET /api/health/full'], per: 'cluster', clusters: ['main'], reads: { requests: 20 } },
      { name: 'global', routes: ['/api/summary'], per: 'rule', reads: { requests: 7 } },
      { name: 'bob', subjects: { principals: ['iss#bob'] }, reads: { requests: 1 } },
    ],
  });
  const keys = (p: Principal, r: RouteMatch) => spendsOf(rules, p, r, 'GET').map((s) => s.key);
  assert.deepEqual(keys(who(), route('/api/osd', 'Osd.list')), [
    'team-a/read/main/group:team-a',
    'any-group/read/main/group:team-a',
    'any-group/read/main/group:readers',
    'osd/read/main/cluster:main',
  ]);
  assert.deepEqual(keys(who(), route('/api/osd', 'Osd.list', 'east')), [
    'team-a/read/east/group:team-a',
    'any-group/read/east/group:team-a',
    'any-group/read/east/group:readers',
  ]);
  const key = who({ id: 'apikey:k1', groups: [], method: 'api_key', apiKeyName: 'ci' });
  assert.deepEqual(keys(key, route('/api/summary', 'Summary.list')), ['keys/read/main/api_key:ci', 'global/read/all']);
  assert.deepEqual(keys(who({ id: 'iss#bob', groups: [] }), route('/api/health/full', 'Health.full')), [
    'osd/read/main/cluster:main',
    'bob/read/main/principal:iss#bob',
  ]);
});

test('header fields as draft-ietf-httpapi-ratelimit-headers-11 writes them, most constraining first', () => {
  assert.equal(rateLimitHeaders([]), null);
  assert.deepEqual(
    rateLimitHeaders([
      { name: 'team-a', quota: 100, windowSeconds: 1, remaining: 37, resetSeconds: 1 },
      { name: 'writes', quota: 10, windowSeconds: 60, remaining: 2, resetSeconds: 41 },
    ]),
    { 'RateLimit-Policy': '"writes";q=10;w=60, "team-a";q=100;w=1', RateLimit: '"writes";r=2;t=41, "team-a";r=37;t=1' },
  );
});
