// 2,000 concurrent mutating calls through the gateway's pipeline (real audit store, a fast local
// stand-in for Ceph) leave exactly 2,000 complete records and an intact hash chain, on PGlite and
// on real Postgres; a hand-edited row is then found by the chain verification.

import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { sql } from 'drizzle-orm';
import { Agent, request } from 'undici';
import { createAuditStore } from '../../src/audit/store.ts';
import { verifyChain } from '../../src/audit/verify.ts';
import { type Database, openDatabase } from '../../src/db/database.ts';
import { migrateDatabase } from '../../src/db/migrate.ts';
import { staticUpstream, testConfig, testDeps } from '../support/doubles.ts';
import { startGateway } from '../support/gateway.ts';
import { need } from '../support/requirements.ts';
import { jsonAnswer, startStubUpstream } from '../support/stub-upstream.ts';
import { throwawayDatabase } from '../support/throwaway-database.ts';

const N = 2000;

for (const kind of ['pglite', 'postgres'] as const) {
  describe(`${N} concurrent audited mutations on ${kind}`, () => {
    const cleanup: (() => Promise<void>)[] = [];
    after(async () => {
      for (const f of cleanup.reverse()) await f();
    });

    test('exactly one complete record each, chain intact, a hand edit detected', async (t) => {
      if (kind === 'postgres' && !need(t, 'postgres')) return;
      const db = kind === 'postgres' ? await throwawayDatabase('cephgate_conc') : null;
      if (db) cleanup.push(db.drop);
      const database: Database = await openDatabase(db ? { url: db.url } : { pgliteDir: 'memory://' });
      await migrateDatabase(database);
      const store = createAuditStore(database, { ownsDatabase: true, timeoutMs: 30_000 });
      cleanup.push(() => store.close());
      const stub = await startStubUpstream(jsonAnswer(201, { ok: true }));
      cleanup.push(() => stub.close());
      // Bounds as generous as the store's (a loaded CI machine must not turn into 503/504 here): this test
      // is about every record and the chain, not latency.
      const gw = await startGateway(
        testDeps({
          config: testConfig({ audit: { intent_timeout_ms: 30_000 } }),
          upstream: staticUpstream(stub.url, { connect: 30_000, headers: 30_000, body: 30_000 }),
          audit: store,
        }),
      );
      cleanup.push(() => gw.close());

      const agent = new Agent({ connections: 200 });
      cleanup.push(() => agent.close());
      const statuses = await Promise.all(
        Array.from({ length: N }, async (_, i) => {
          const res = await request(`${gw.url}/api/pool`, {
            dispatcher: agent,
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ pool: `p${i}`, pg_num: 8 }),
          });
          await res.body.dump();
          return res.statusCode;
        }),
      );
      const counts: Record<number, number> = {};
      for (const s of statuses) counts[s] = (counts[s] ?? 0) + 1;
      assert.deepEqual(counts, { 201: N });
      assert.equal(stub.received.length, N);
      // Outcomes are committed just after the answers (docs/audit.md): read after the queue is written.
      await store.flush();

      const rows = (await database.db.execute(
        sql`select count(*)::int as n, count(o.record_id)::int as complete from audit_intents i left join audit_outcomes o on o.record_id = i.id`,
      )) as unknown as { rows: { n: number; complete: number }[] };
      assert.deepEqual(rows.rows[0], { n: N, complete: N });
      const report = await verifyChain(database.db);
      assert.equal(report.ok, true);
      assert.equal(report.checked, 2 * N, 'intents and outcomes are all chained');

      await database.db.execute(
        sql`update audit_intents set body = '{"pool":"forged"}'::jsonb where id = (select id from audit_intents order by seq limit 1 offset 100)`,
      );
      const broken = await verifyChain(database.db);
      assert.equal(broken.ok, false);
      assert.ok(broken.firstBroken, 'the edited row is the first broken link');
    });
  });
}
