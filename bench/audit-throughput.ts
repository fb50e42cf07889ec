// Measures audit group-commit throughput (intent + outcome per simulated mutation) on PGlite and on
// Postgres (CEPHGATE_TEST_DATABASE_URL or the local default), and this process's CPU per mutation (on Postgres:
// the gateway's side of the audit log alone). Usage: npx tsx bench/audit-throughput.ts [N] [concurrency]

import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { v7 as uuidv7 } from 'uuid';
import { createAuditStore } from '../src/audit/store.ts';
import { verifyChain } from '../src/audit/verify.ts';
import type { AuditIntent } from '../src/core/audit.ts';
import { openDatabase } from '../src/db/database.ts';
import { migrateDatabase } from '../src/db/migrate.ts';

const N = Number(process.argv[2] ?? 5000);
const CONCURRENCY = Number(process.argv[3] ?? 2000);
const ADMIN_URL = process.env.CEPHGATE_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

function intent(): AuditIntent {
  return {
    id: uuidv7(),
    requestId: randomBytes(8).toString('hex'),
    receivedAt: new Date(),
    cluster: 'main',
    principal: {
      id: 'idp#alice',
      name: 'alice',
      email: null,
      groups: ['admins'],
      method: 'api_key',
      authenticatedAt: new Date(),
      apiKeyName: 'ci',
      claims: {},
    },
    clientIp: '10.1.2.3',
    userAgent: 'bench',
    method: 'POST',
    rawPath: '/api/pool',
    route: { cluster: 'main', operation: null, template: '/api/pool', params: {} },
    query: {},
    body: { pool: `p${randomBytes(3).toString('hex')}`, pg_num: 32, application_metadata: ['rbd'] },
    decision: { effect: 'allow', ruleId: 'r1', reason: 'ok', cephAccount: 'svc', policyVersion: 'v1' },
  };
}

async function run(label: string, url?: string): Promise<void> {
  const database = await openDatabase(url ? { url } : { pgliteDir: 'memory://' });
  await migrateDatabase(database);
  const store = createAuditStore(database, { timeoutMs: 30000 });
  let next = 0;
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < N) {
        next++;
        const i = intent();
        await store.recordIntent(i);
        await store.recordOutcome(i.id, {
          forwardedAt: new Date(),
          completedAt: new Date(),
          upstreamStatus: 201,
          status: 201,
          cephErrorDetail: null,
          cephErrorCode: null,
          cephTask: null,
          errorCode: null,
        });
      }
    }),
  );
  const s = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const cpuUs = Math.round((cpu.user + cpu.system) / N);
  const v = await verifyChain(store.db);
  console.log(
    `${label}: ${N} mutations (intent+outcome) at concurrency ${CONCURRENCY} in ${s.toFixed(2)} s = ${Math.round(N / s)}/s, ${cpuUs} µs of this process's CPU per mutation; chain ${v.ok ? 'intact' : 'BROKEN'} (${v.checked} events)`,
  );
  await store.close();
  await database.close();
}

await run('pglite');
const admin = new pg.Client({ connectionString: ADMIN_URL });
await admin.connect();
const name = `cephgate_bench_${randomBytes(4).toString('hex')}`;
await admin.query(`CREATE DATABASE ${name}`);
try {
  const u = new URL(ADMIN_URL);
  u.pathname = `/${name}`;
  await run('postgres', u.toString());
} finally {
  await admin.query(`DROP DATABASE ${name} WITH (FORCE)`);
  await admin.end();
}
