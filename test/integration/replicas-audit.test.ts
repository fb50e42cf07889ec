// 2 x 2,000 concurrent audited mutations through two real gateway processes writing one audit chain in
// one Postgres (a fast local stand-in for Ceph): every record present and complete, and the hash chain
// intact and linear across both writers (test/integration/audit-concurrency.test.ts does it for one process).

import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { sql } from 'drizzle-orm';
import { Agent, request } from 'undici';
import { verifyChain } from '../../src/audit/verify.ts';
import { apikeyCreate } from '../../src/auth/api-keys.ts';
import { createApiKeyStore } from '../../src/auth/apikey-store.ts';
import { openDatabase } from '../../src/db/database.ts';
import { need } from '../support/requirements.ts';
import { throwawayDatabase } from '../support/throwaway-database.ts';
import { type Replicas, startCephStandIn, startReplicas } from './replicas-harness.ts';

const N = 2000;
const POLICY = `
rules:
  - id: writers-create-pools
    effect: allow
    subjects: { groups: [writers] }
    routes: [Pool.create]
    ceph_account: svc
`;

const cleanup: (() => Promise<void>)[] = [];
after(async () => {
  for (const f of cleanup.reverse()) await f();
});

test(`2 x ${N} concurrent audited mutations through two replicas: every record present, chain intact`, async (t) => {
  if (!need(t, 'postgres')) return;
  const db = await throwawayDatabase('cephgate_replicas_audit');
  cleanup.push(() => db.drop());
  const ceph = await startCephStandIn();
  cleanup.push(() => ceph.close());
  const set: Replicas = await startReplicas({
    count: 2,
    databaseUrl: db.url,
    policies: { 'writers.yaml': POLICY },
    env: { CG_REPLICA_CEPH_PW: 'x' },
    config: () => ({
      ceph: {
        clusters: [
          { name: 'main', dashboards: [ceph.url], release: 'pacific', accounts: [{ name: 'svc', username: 'svc', password_env: 'CG_REPLICA_CEPH_PW' }] },
        ],
      },
      // As generous as audit-concurrency's: this is about every record and the chain, not latency.
      audit: { intent_timeout_ms: 60_000 },
    }),
  });
  cleanup.push(() => set.close());

  const database = await openDatabase({ url: db.url });
  cleanup.push(() => database.close());
  const { key } = await apikeyCreate(createApiKeyStore(database.db), { name: 'writer', groups: ['writers'] });

  const agent = new Agent({ connections: 200, headersTimeout: 120_000, bodyTimeout: 120_000 });
  cleanup.push(() => agent.close());
  const statuses = await Promise.all(
    set.replicas.flatMap((r) =>
      Array.from({ length: N }, async (_, i) => {
        const res = await request(`${r.url}/api/pool`, {
          dispatcher: agent,
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
          body: JSON.stringify({ pool: `${r.name}-${i}`, pg_num: 8 }),
        });
        await res.body.dump();
        return res.statusCode;
      }),
    ),
  );
  const counts: Record<number, number> = {};
  for (const s of statuses) counts[s] = (counts[s] ?? 0) + 1;
  assert.deepEqual(counts, { 201: 2 * N });
  assert.equal(ceph.received.filter((r) => r === 'POST /api/pool').length, 2 * N);

  // Outcomes are committed just after the answers (docs/audit.md): wait until both replicas wrote theirs.
  type Counts = { n: number; complete: number; a: number; b: number };
  let rows: Counts = { n: 0, complete: 0, a: 0, b: 0 };
  for (let i = 0; i < 120 && rows.complete < 2 * N; i++) {
    const r = (await database.db.execute(
      sql`select count(*)::int as n, count(o.record_id)::int as complete,
                 count(*) filter (where i.body->>'pool' like 'A-%')::int as a, count(*) filter (where i.body->>'pool' like 'B-%')::int as b
          from audit_intents i left join audit_outcomes o on o.record_id = i.id where i.method = 'POST'`,
    )) as unknown as { rows: Counts[] };
    rows = r.rows[0] as Counts;
    if (rows.complete < 2 * N) await new Promise((res) => setTimeout(res, 500));
  }
  assert.deepEqual(rows, { n: 2 * N, complete: 2 * N, a: N, b: N });
  const report = await verifyChain(database.db);
  assert.equal(report.ok, true, JSON.stringify(report));
  assert.ok(report.checked >= 4 * N, 'intents and outcomes of both replicas are all chained');
});
