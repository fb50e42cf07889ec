// The audit store suite, run unchanged against embedded PGlite (memory) and a throwaway database on
// real Postgres: group commit, chain integrity under concurrency, tamper detection, fail-closed timing.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { sql } from 'drizzle-orm';
import pg from 'pg';
import { v7 as uuidv7 } from 'uuid';
import { queryAudit } from '../../src/audit/query.ts';
import { REDACTED } from '../../src/audit/redact.ts';
import { type AuditStore, createAuditStore } from '../../src/audit/store.ts';
import { verifyChain } from '../../src/audit/verify.ts';
import type { AuditIntent, AuditOutcome } from '../../src/core/audit.ts';
import { type Database, openDatabase } from '../../src/db/database.ts';
import { migrateDatabase } from '../../src/db/migrate.ts';

const ADMIN_URL = process.env.CEPHGATE_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export function intent(over: Partial<AuditIntent> = {}): AuditIntent {
  return {
    id: uuidv7(),
    requestId: `req-${randomBytes(4).toString('hex')}`,
    receivedAt: new Date(),
    cluster: 'main',
    principal: {
      id: 'https://idp#alice',
      name: 'alice',
      email: 'alice@example.org',
      groups: ['storage-admins'],
      method: 'oidc_bearer',
      authenticatedAt: new Date(),
      apiKeyName: null,
      claims: {},
    },
    clientIp: '10.0.0.5',
    userAgent: 'test',
    method: 'POST',
    rawPath: '/api/pool',
    route: { cluster: 'main', operation: null, template: '/api/pool', params: {} },
    query: {},
    body: { pool: 'rbd', pg_num: 32, password: 'hunter2' },
    decision: { effect: 'allow', ruleId: 'admins', reason: 'admins may', cephAccount: 'svc', policyVersion: 'v1' },
    ...over,
  };
}

export const outcome = (status = 201): AuditOutcome => ({
  forwardedAt: new Date(),
  completedAt: new Date(),
  upstreamStatus: status,
  status,
  cephErrorDetail: null,
  cephErrorCode: null,
  cephTask: null,
  errorCode: null,
});

/** A throwaway Postgres database, or null (with the reason) when Postgres is unreachable. */
async function throwawayPostgres(): Promise<{ url: string; drop: () => Promise<void> } | string> {
  const admin = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 2000 });
  try {
    await admin.connect();
  } catch (err) {
    return `Postgres unreachable at ${ADMIN_URL}: ${(err as Error).message}`;
  }
  const name = `cephgate_test_${randomBytes(6).toString('hex')}`;
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const u = new URL(ADMIN_URL);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: ADMIN_URL });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

/** A TCP relay in front of Postgres that can be cut and restored: Postgres "stopped" and "back". */
interface Relay {
  port: number;
  cut: () => void;
  restore: () => Promise<void>;
  /** Stop moving bytes without closing anything: a database that hangs rather than refuses. */
  freeze: () => void;
  thaw: () => void;
  close: () => Promise<void>;
}

function relay(target: URL): Promise<Relay> {
  let server: net.Server;
  const sockets = new Set<net.Socket>();
  let port = 0;
  const listen = () =>
    new Promise<void>((resolve) => {
      server = net.createServer((c) => {
        const up = net.connect(Number(target.port || 5432), target.hostname);
        for (const s of [c, up]) {
          sockets.add(s);
          s.on('error', () => s.destroy());
          s.on('close', () => sockets.delete(s));
        }
        c.pipe(up).pipe(c);
      });
      server.listen(port, '127.0.0.1', () => {
        port = (server.address() as net.AddressInfo).port;
        resolve();
      });
    });
  const cut = () => {
    server.close();
    for (const s of sockets) s.destroy();
  };
  const freeze = () => {
    for (const s of sockets) s.pause();
  };
  const thaw = () => {
    for (const s of sockets) s.resume();
  };
  return listen().then(() => ({ port, cut, restore: listen, freeze, thaw, close: async () => cut() }));
}

const timed = async (p: Promise<unknown>): Promise<{ ms: number; err: unknown }> => {
  const t0 = performance.now();
  try {
    await p;
    return { ms: performance.now() - t0, err: null };
  } catch (err) {
    return { ms: performance.now() - t0, err };
  }
};

function storeSuite(kind: 'pglite' | 'postgres'): void {
  describe(`audit store on ${kind}`, () => {
    let database: Database;
    let store: AuditStore;
    let pgdb: { url: string; drop: () => Promise<void> } | null = null;
    let skip: string | null = null;
    // Tests about a database server (several writers, outages) exist only where there is one.
    const postgresOnly = kind === 'pglite' ? (..._args: unknown[]) => undefined : it;

    before(async () => {
      if (kind === 'postgres') {
        const r = await throwawayPostgres();
        if (typeof r === 'string') {
          if (process.env.CI === 'true') throw new Error(r);
          skip = r;
          console.log(`# skipping Postgres audit suite: ${r}`);
          return;
        }
        pgdb = r;
      }
      database = await openDatabase(pgdb ? { url: pgdb.url } : { pgliteDir: 'memory://' });
      await migrateDatabase(database);
      // A generous bound here: these tests check integrity, the outage test checks the 503 timing.
      store = createAuditStore(database, { timeoutMs: 15000 });
    });
    after(async () => {
      if (skip !== null) return;
      await store.close();
      await database.close();
      await pgdb?.drop();
    });

    it('commits an intent with its body redacted; without an outcome it reads as unknown', async (t) => {
      if (skip !== null) return t.skip(skip);
      const i = intent();
      await store.recordIntent(i);
      const page = await queryAudit(store.db, { requestId: i.requestId });
      assert.equal(page.items.length, 1);
      const rec = page.items[0];
      assert.equal(rec?.outcome, 'unknown');
      assert.deepEqual(rec?.body, { pool: 'rbd', pg_num: 32, password: REDACTED });
      assert.equal(rec?.principal?.name, 'alice');
      await store.recordOutcome(i.id, outcome());
      const again = await queryAudit(store.db, { requestId: i.requestId });
      assert.equal(again.items[0]?.outcome, 'complete');
      assert.equal(again.items[0]?.status, 201);
    });

    it('flush: outcomes queued without waiting (as the pipeline answers first) are readable once it resolves', async (t) => {
      if (skip !== null) return t.skip(skip);
      const tag = `flush-${randomBytes(3).toString('hex')}`;
      for (let n = 0; n < 50; n++) {
        const i = intent({ cluster: tag });
        await store.recordIntent(i);
        void store.recordOutcome(i.id, outcome(201));
      }
      await store.flush();
      const rows = await store.db.execute(sql`select count(*)::int as n from audit_log where cluster = ${tag} and outcome = 'complete'`);
      assert.equal(Number((rows as unknown as { rows: { n: number }[] }).rows[0]?.n), 50, 'every outcome committed when flush resolved');
      await store.flush(); // nothing queued: resolves at once
    });

    it('2,000 concurrent intent+outcome pairs leave exactly 2,000 complete records and an intact chain', async (t) => {
      if (skip !== null) return t.skip(skip);
      const tag = `bulk-${randomBytes(3).toString('hex')}`;
      const t0 = performance.now();
      await Promise.all(
        Array.from({ length: 2000 }, async () => {
          const i = intent({ cluster: tag });
          await store.recordIntent(i);
          await store.recordOutcome(i.id, outcome(201));
        }),
      );
      const ms = performance.now() - t0;
      console.log(`# ${kind}: 2,000 intent+outcome pairs in ${ms.toFixed(0)} ms (${Math.round(2000 / (ms / 1000))} audited mutations/s)`);
      const rows = await store.db.execute(sql`select count(*)::int as n from audit_log where cluster = ${tag} and outcome = 'complete'`);
      assert.equal(Number((rows as unknown as { rows: { n: number }[] }).rows[0]?.n), 2000);
      const report = await verifyChain(store.db);
      assert.equal(report.firstBroken, null);
      assert.ok(report.ok);
    });

    // Not registered on PGlite: an embedded PGlite directory has one writer process.
    postgresOnly('two gateway instances (own pools, own writers) appending to one database keep one intact chain', async (t) => {
      if (skip !== null) return t.skip(skip);
      const other = await openDatabase({ url: pgdb?.url ?? '' });
      const s2 = createAuditStore(other, { timeoutMs: 15000, ownsDatabase: true });
      try {
        const pair = async (s: AuditStore) => {
          const i = intent();
          await s.recordIntent(i);
          await s.recordOutcome(i.id, outcome());
        };
        await Promise.all(Array.from({ length: 1000 }, (_, n) => pair(n % 2 === 0 ? store : s2)));
        const r = await verifyChain(store.db);
        assert.equal(r.firstBroken, null);
      } finally {
        await s2.close();
      }
    });

    it('verify reports the first hand-edited row, intents and outcomes alike', async (t) => {
      if (skip !== null) return t.skip(skip);
      const a = intent();
      const b = intent();
      await store.recordIntent(a);
      await store.recordIntent(b);
      await store.recordOutcome(a.id, outcome(201));
      assert.ok((await verifyChain(store.db)).ok);
      await store.db.execute(sql`update audit_outcomes set status = 200 where record_id = ${a.id}`);
      await store.db.execute(sql`update audit_intents set principal_name = 'mallory' where id = ${b.id}`);
      const r = await verifyChain(store.db);
      assert.equal(r.ok, false);
      assert.equal(r.firstBroken?.recordId, b.id); // b's intent precedes a's outcome in the chain
      assert.equal(r.firstBroken?.reason, 'hash_mismatch');
      await store.db.execute(sql`update audit_intents set principal_name = 'alice' where id = ${b.id}`);
      const r2 = await verifyChain(store.db);
      assert.equal(r2.firstBroken?.kind, 'outcome');
      assert.equal(r2.firstBroken?.recordId, a.id);
      await store.db.execute(sql`update audit_outcomes set status = 201 where record_id = ${a.id}`);
      assert.ok((await verifyChain(store.db)).ok);
    });

    it('a bad row refuses only its own caller, not its batch-mates; orphan and duplicate outcomes are refused', async (t) => {
      if (skip !== null) return t.skip(skip);
      const good = Array.from({ length: 20 }, () => intent());
      const results = await Promise.allSettled([...good.map((i) => store.recordIntent(i)), store.recordIntent(intent({ id: 'not-a-uuid' }))]);
      assert.deepEqual(
        results.map((r) => r.status),
        [...good.map(() => 'fulfilled'), 'rejected'],
      );
      await assert.rejects(store.recordOutcome(uuidv7(), outcome()));
      await store.recordOutcome(good[0]?.id ?? '', outcome(201));
      await assert.rejects(store.recordOutcome(good[0]?.id ?? '', outcome(500)));
      assert.equal((await queryAudit(store.db, { requestId: good[0]?.requestId ?? '' })).items[0]?.status, 201);
      assert.ok((await verifyChain(store.db)).ok);
    });

    it('text Postgres cannot store as given (NUL, lone surrogates) is normalized, committed and verifies', async (t) => {
      if (skip !== null) return t.skip(skip);
      const odd = 'a\u0000b\ud800c\udc00d';
      const p = {
        id: `idp#${odd}`,
        name: odd,
        email: null,
        groups: [odd],
        method: 'oidc_bearer' as const,
        authenticatedAt: new Date(),
        apiKeyName: null,
        claims: {},
      };
      const i = intent({ principal: p, body: { [odd]: odd, note: [odd] }, query: { q: [odd] } });
      await store.recordIntent(i);
      const rec = (await queryAudit(store.db, { requestId: i.requestId })).items[0];
      assert.equal(rec?.principal?.name, 'a\uFFFDb\uFFFDc\uFFFDd');
      assert.ok((await verifyChain(store.db)).ok);
    });

    it('a refused request (denial, auth failure) reads as refused with its final status', async (t) => {
      if (skip !== null) return t.skip(skip);
      const i = intent({ principal: null, decision: null, finalStatus: 401, errorCode: 'invalid_token', body: null });
      await store.recordIntent(i);
      const rec = (await queryAudit(store.db, { requestId: i.requestId })).items[0];
      assert.equal(rec?.outcome, 'refused');
      assert.equal(rec?.status, 401);
      assert.equal(rec?.error_code, 'invalid_token');
    });

    // Not registered on PGlite: embedded PGlite has no server to lose.
    postgresOnly('rejects within the bound when the database port is closed, and after its backends are terminated works again', async (t) => {
      if (skip !== null) return t.skip(skip);
      const dead = await openDatabase({ url: 'postgres://postgres@127.0.0.1:1/none', connectTimeoutMs: 1000 });
      const s = createAuditStore(dead, { timeoutMs: 2000, ownsDatabase: true });
      const { ms, err } = await timed(s.recordIntent(intent()));
      assert.equal((err as { status?: number }).status, 503);
      assert.ok(ms < 2500, `${ms} ms`);
      await s.close();
      // Kill every backend of the live store: its pooled connections die under it.
      const admin = new pg.Client({ connectionString: ADMIN_URL });
      await admin.connect();
      await admin.query('select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()', [
        new URL(pgdb?.url ?? '').pathname.slice(1),
      ]);
      await admin.end();
      const first = await timed(store.recordIntent(intent()));
      assert.ok(first.ms < 2500);
      await store.recordIntent(intent()); // the pool replaced the dead connections by itself
      assert.ok((await verifyChain(store.db)).ok);
    });

    // Not registered on PGlite: embedded PGlite cannot hang.
    postgresOnly('an intent that commits after its caller got 503 is closed with a 503 outcome, never left looking forwarded', async (t) => {
      if (skip !== null) return t.skip(skip);
      const target = new URL(pgdb?.url ?? '');
      const r = await relay(target);
      const viaRelay = new URL(target);
      viaRelay.host = `127.0.0.1:${r.port}`;
      const s2 = createAuditStore(await openDatabase({ url: viaRelay.toString(), poolMax: 2 }), { timeoutMs: 800, ownsDatabase: true });
      try {
        await s2.recordIntent(intent()); // warm connection
        r.freeze();
        const late = intent();
        const { ms, err } = await timed(s2.recordIntent(late));
        assert.equal((err as { code?: string }).code, 'audit_unavailable');
        assert.ok(ms < 1500, `${ms} ms`);
        r.thaw();
        let rec = null;
        for (let k = 0; k < 50 && rec?.outcome !== 'complete'; k++) {
          await new Promise((res) => setTimeout(res, 100));
          rec = (await queryAudit(store.db, { requestId: late.requestId })).items[0] ?? null;
        }
        assert.equal(rec?.outcome, 'complete');
        assert.equal(rec?.status, 503);
        assert.equal(rec?.error_code, 'audit_unavailable');
        assert.equal(rec?.forwarded_at, null);
      } finally {
        await s2.close();
        await r.close();
      }
    });

    // Not registered on PGlite: embedded PGlite cannot be unreachable.
    postgresOnly('rejects promptly while Postgres is unreachable and recovers by itself', async (t) => {
      if (skip !== null) return t.skip(skip);
      const target = new URL(pgdb?.url ?? '');
      const r = await relay(target);
      const viaRelay = new URL(target);
      viaRelay.host = `127.0.0.1:${r.port}`;
      const db2 = await openDatabase({ url: viaRelay.toString(), connectTimeoutMs: 1000, queryTimeoutMs: 3000 });
      const s2 = createAuditStore(db2, { timeoutMs: 1500, ownsDatabase: true });
      try {
        await s2.recordIntent(intent());
        r.cut();
        for (let n = 0; n < 3; n++) {
          const { ms, err } = await timed(s2.recordIntent(intent()));
          assert.ok(err, 'intent must be refused while the database is down');
          assert.equal((err as { code?: string }).code, 'audit_unavailable');
          assert.ok(ms < 2500, `rejected after ${ms} ms`);
        }
        assert.equal(await s2.ping(), false);
        await r.restore();
        const { err } = await timed(s2.recordIntent(intent()));
        assert.equal(err, null);
        assert.ok((await verifyChain(store.db)).ok);
      } finally {
        await s2.close();
        await r.close();
      }
    });
  });
}

storeSuite('pglite');
storeSuite('postgres');
