// Rate limits with their real counters: rate-limiter-flexible in memory and in the database (PGlite, as
// Postgres would hold them), two instances sharing one budget, the cluster budget's brief queue, and the
// refusal the pipeline sends.

import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { rateLimitsConfigSchema } from '../../src/config/rate-limits.ts';
import type { RouteMatch } from '../../src/core/catalogue.ts';
import type { Principal } from '../../src/core/principal.ts';
import { type Database, openDatabase } from '../../src/db/database.ts';
import { migrateDatabase } from '../../src/db/migrate.ts';
import { slicesPerSecond } from '../../src/limits/cluster-budget.ts';
import { createRateLimits, rateLimitError } from '../../src/limits/index.ts';

const log = { debug() {}, info() {}, warn() {}, error() {} };
const who = (id: string, groups: string[] = []): Principal => ({
  id,
  name: id,
  email: null,
  groups,
  method: 'oidc_bearer',
  authenticatedAt: new Date(0),
  apiKeyName: null,
  claims: {},
});
const osd = { cluster: 'main', template: '/api/osd', params: {}, operation: { id: 'Osd.list' } } as unknown as RouteMatch;
const pool = { cluster: 'main', template: '/api/pool', params: {}, operation: { id: 'Pool.create' } } as unknown as RouteMatch;

let database: Database | null = null;
after(async () => {
  await database?.close();
});
async function db(): Promise<Database> {
  if (database === null) {
    database = await openDatabase({ pgliteDir: 'memory://' });
    await migrateDatabase(database);
  }
  return database;
}

const limits = async (raw: Record<string, unknown>) =>
  createRateLimits({ config: rateLimitsConfigSchema.parse({ enabled: true, ...raw }), db: (await db()).db, clusters: ['main'], log });

test('disabled: every request passes, nothing is counted', async () => {
  const l = createRateLimits({ config: rateLimitsConfigSchema.parse({}), db: (await db()).db, clusters: ['main'], log });
  assert.equal(l.enabled, false);
  assert.deepEqual(await l.check(who('a'), osd, 'GET'), { ok: true, headers: null });
});

for (const store of ['memory', 'database'] as const) {
  test(`${store} store: a per-principal read budget holds, mutations have their own, other callers are not slowed`, async () => {
    const l = await limits({
      store,
      rules: [{ name: `p-${store}`, reads: { requests: 3, window_seconds: 60 }, mutations: { requests: 1, window_seconds: 60 } }],
    });
    const a = who(`alice-${store}`);
    const reads = [];
    for (let i = 0; i < 5; i++) reads.push(await l.check(a, osd, 'GET'));
    assert.deepEqual(
      reads.map((r) => r.ok),
      [true, true, true, false, false],
    );
    const first = reads[0];
    assert.ok(first?.ok);
    assert.deepEqual(first.headers, { 'RateLimit-Policy': `"p-${store}";q=3;w=60`, RateLimit: `"p-${store}";r=2;t=60` });
    const refused = reads[3];
    assert.ok(refused !== undefined && !refused.ok);
    assert.equal(refused.limited.status, 429);
    assert.equal(refused.limited.policy, `p-${store}`);
    assert.equal(refused.limited.limit, 3);
    assert.equal(refused.limited.remaining, 0);
    assert.ok(refused.limited.retryAfterSeconds >= 59 && refused.limited.retryAfterSeconds <= 60);
    assert.equal(refused.headers?.RateLimit, `"p-${store}";r=0;t=${refused.limited.reset}`);
    assert.equal((await l.check(a, pool, 'POST')).ok, true, 'the mutation budget is separate');
    assert.equal((await l.check(a, pool, 'POST')).ok, false);
    assert.equal((await l.check(who(`bob-${store}`), osd, 'GET')).ok, true, 'another principal has its own budget');
  });
}

test('a rule with store: database: two instances spend one group budget exactly, however the requests are spread', async () => {
  const raw = {
    store: 'memory',
    rules: [{ name: 'team', store: 'database', subjects: { groups: ['team-a'] }, per: 'group', reads: { requests: 40, window_seconds: 60 } }],
  };
  const [one, two] = [await limits(raw), await limits(raw)];
  const results = await Promise.all(Array.from({ length: 100 }, (_, i) => (i % 2 === 0 ? one : two).check(who(`u${i}`, ['team-a']), osd, 'GET')));
  assert.equal(results.filter((r) => r.ok).length, 40);
  assert.equal((await one.check(who('outsider', ['team-b']), osd, 'GET')).ok, true, 'other groups are not slowed');
});

test('memory store with instances: 2 enforces half of the budget on each instance', async () => {
  const l = await limits({ store: 'memory', instances: 2, rules: [{ name: 'half', per: 'rule', reads: { requests: 10, window_seconds: 60 } }] });
  const results = await Promise.all(Array.from({ length: 20 }, (_, i) => l.check(who(`m${i}`), osd, 'GET')));
  assert.equal(results.filter((r) => r.ok).length, 5);
});

test('cluster budget: a burst waits briefly for the next slice, then is refused with the configured status', async () => {
  // 50/s = 5 per 100 ms slice; 250 ms of queue lets about 3 slices through, the rest are refused.
  const l = await limits({ store: 'memory', clusters: [{ cluster: 'main', requests_per_second: 50, queue_ms: 250 }] });
  const started = Date.now();
  const results = await Promise.all(Array.from({ length: 40 }, (_, i) => l.check(who(`c${i}`), osd, 'GET')));
  const passed = results.filter((r) => r.ok).length;
  assert.ok(passed >= 10 && passed <= 20, `passed ${passed}`);
  assert.ok(Date.now() - started >= 100, 'some waited for a later slice');
  const refused = results.find((r) => !r.ok);
  assert.ok(refused !== undefined && !refused.ok);
  assert.equal(refused.limited.status, 503);
  assert.equal(refused.limited.policy, 'cluster-main');
  assert.equal(refused.headers?.['RateLimit-Policy'], '"cluster-main";q=50;w=1');
});

test('cluster budget windows: a whole number of requests each, at most 10 a second', () => {
  assert.deepEqual([500, 50, 15, 7, 13, 1, 1000].map(slicesPerSecond), [10, 10, 5, 7, 1, 1, 10]);
});

test('a refusal in Ceph error shape: too_many_requests, Retry-After, RateLimit fields and the policy', async () => {
  const l = await limits({ store: 'memory', rules: [{ name: 'one', reads: { requests: 1, window_seconds: 30 } }] });
  await l.check(who('e'), osd, 'GET');
  const r = await l.check(who('e'), osd, 'GET');
  assert.ok(!r.ok);
  const err = rateLimitError(r.limited, r.headers);
  assert.equal(err.status, 429);
  assert.equal(err.code, 'too_many_requests');
  assert.equal(err.headers['Retry-After'], String(r.limited.retryAfterSeconds));
  assert.equal(err.headers['RateLimit-Policy'], '"one";q=1;w=30');
  assert.match(err.headers.RateLimit as string, /^"one";r=0;t=\d+$/);
  assert.deepEqual(err.extra, { retry_after: r.limited.retryAfterSeconds, rate_limit_policy: 'one' });
});

test('an unknown cluster in the configuration is a start-up error', async () => {
  await assert.rejects(limits({ clusters: [{ cluster: 'nope', requests_per_second: 1 }] }), /no cluster named nope/);
});
