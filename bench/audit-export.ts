// Export of N synthetic audit records (default 1,000,000) from Postgres or PGlite with memory sampled:
// shows the NDJSON/CSV export runs in flat memory. Usage: npx tsx bench/audit-export.ts [N] [ndjson|csv] [pglite]

import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { sql } from 'drizzle-orm';
import pg from 'pg';
import { type ExportFormat, exportStream } from '../src/audit/export.ts';
import { type AuditQuery, queryAudit } from '../src/audit/query.ts';
import { openDatabase } from '../src/db/database.ts';
import { migrateDatabase } from '../src/db/migrate.ts';

const N = Number(process.argv[2] ?? 1_000_000);
const format = (process.argv[3] ?? 'ndjson') as ExportFormat;
const usePglite = process.argv[4] === 'pglite';
const ADMIN_URL = process.env.CEPHGATE_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const name = `cephgate_bench_${randomBytes(4).toString('hex')}`;
const admin = new pg.Client({ connectionString: ADMIN_URL });
const mib = (b: number) => (b / 1048576).toFixed(1);

if (!usePglite) {
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
}
const u = new URL(ADMIN_URL);
u.pathname = `/${name}`;
const database = await openDatabase(usePglite ? {} : { url: u.toString(), queryTimeoutMs: 0 });
try {
  await migrateDatabase(database);
  const t0 = performance.now();
  for (let done = 0; done < N; done += 100_000) {
    const n = Math.min(100_000, N - done);
    await database.db.execute(sql`insert into audit_intents (id, seq, prev_hash, hash, request_id, received_at, cluster, principal_id, principal_groups, client_ip, method, raw_path, route_template, path_params, pools, query, body, decision_effect)
      select gen_random_uuid(), ${done} + g, md5(g::text), md5(g::text), 'req' || g, now() - interval '1 day' + (${done} + g) * interval '1 ms', 'main', 'idp#alice', '["admins"]', '10.0.0.2', 'POST', '/api/pool', '/api/pool', '{}', '["rbd"]', '{}',
        jsonb_build_object('pool', 'p' || g, 'pg_num', 32, 'application_metadata', jsonb_build_array('rbd')), 'allow'
      from generate_series(1, ${n}) g`);
  }
  console.log(`seeded ${N} rows in ${((performance.now() - t0) / 1000).toFixed(1)} s (${database.kind})`);
  await database.db.execute(sql`analyze`);
  // Page latency of the audit API's typical queries on a table this size (median of 5).
  const mid = (await queryAudit(database.db, { limit: 1, order: 'asc', from: new Date(Date.now() - 86400000 + N / 2) })).items[0];
  const cases: [string, AuditQuery][] = [
    ['newest page', {}],
    ['principal', { principal: 'idp#alice' }],
    ['pool (jsonb containment)', { pool: 'rbd' }],
    ['time window', { from: new Date(Date.now() - 86400000 + N / 3), to: new Date(Date.now() - 86400000 + N / 3 + 60000) }],
    ['rare status (no match)', { status: 599 }],
    ['deep cursor', mid ? { cursor: Buffer.from(JSON.stringify([mid.received_at, mid.id])).toString('base64url') } : {}],
  ];
  for (const [label, q] of cases) {
    const times: number[] = [];
    for (let k = 0; k < 5; k++) {
      const t = performance.now();
      await queryAudit(database.db, { ...q, limit: 100 });
      times.push(performance.now() - t);
    }
    console.log(`query ${label}: ${times.sort((a, b) => a - b)[2]?.toFixed(1)} ms`);
  }
  const base = process.memoryUsage();
  let peakRss = base.rss;
  let peakHeap = base.heapUsed;
  const samples: string[] = [];
  let rows = 0;
  const sampler = setInterval(() => {
    const m = process.memoryUsage();
    peakRss = Math.max(peakRss, m.rss);
    peakHeap = Math.max(peakHeap, m.heapUsed);
    samples.push(`${rows}:${mib(m.rss)}`);
  }, 1000);
  let bytes = 0;
  const t1 = performance.now();
  await pipeline(
    exportStream(database.db, {}, format, (n) => {
      rows = n;
    }),
    new Writable({
      write(c: Buffer, _e, cb) {
        bytes += c.length;
        cb();
      },
    }),
  );
  clearInterval(sampler);
  const s = (performance.now() - t1) / 1000;
  console.log(`exported ${rows} rows as ${format} (${mib(bytes)} MiB) in ${s.toFixed(1)} s = ${Math.round(rows / s)} rows/s`);
  console.log(`RSS at start ${mib(base.rss)} MiB, peak ${mib(peakRss)} MiB; heap at start ${mib(base.heapUsed)} MiB, peak ${mib(peakHeap)} MiB`);
  console.log(`rows:RSS MiB each second: ${samples.join(' ')}`);
} finally {
  await database.close();
  if (!usePglite) {
    await admin.query(`DROP DATABASE ${name} WITH (FORCE)`);
    await admin.end();
  }
}
