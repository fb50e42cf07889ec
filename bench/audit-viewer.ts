// Server time of the audit viewer's pages on a large log: loads N synthetic records (default
// 1,000,000, with outcomes) into a throwaway Postgres database, serves the real pages (web/pages
// through mountGatewayRoutes; the authoriser is a stub that allows), times each page in the server
// (first byte of the request to the last byte of the page, measured around the hono app) and prints
// the EXPLAIN (ANALYZE, BUFFERS) plan of every query a page ran.
// Usage: npx tsx bench/audit-viewer.ts [N] [--keep] [--reuse <database>]   (CEPHGATE_TEST_DATABASE_URL or postgres://postgres@127.0.0.1:5432/test)

import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { sql } from 'drizzle-orm';
import type { Hono } from 'hono';
import pg from 'pg';
import type { AuditStore } from '../src/audit/store.ts';
import type { ApiKeyStore } from '../src/auth/apikey-store.ts';
import { loadCatalogue } from '../src/ceph/catalogue.ts';
import { createRouteMatcher } from '../src/ceph/route-matcher.ts';
import type { Principal } from '../src/core/principal.ts';
import { openDatabase } from '../src/db/database.ts';
import { migrateDatabase } from '../src/db/migrate.ts';
import { createTrustedProxies } from '../src/intake/trusted-proxies.ts';
import type { PolicyManager } from '../src/policy/manager.ts';
import { createLogger } from '../src/telemetry/logger.ts';
import { createMetrics } from '../src/telemetry/metrics.ts';
import { createWebApp } from '../src/web/app.ts';
import type { AppEnv } from '../src/web/env.ts';
import { mountGatewayRoutes } from '../src/web/gateway-routes.ts';

const N = Number(process.argv.find((a) => /^\d+$/.test(a)) ?? 1_000_000);
const KEEP = process.argv.includes('--keep');
/** `--reuse <database>`: measure a database seeded (and kept) by an earlier run, without seeding again. */
const REUSE = process.argv.includes('--reuse') ? process.argv[process.argv.indexOf('--reuse') + 1] : undefined;
const RUNS = 30;
const WARMUP = 10;
const ADMIN_URL = process.env.CEPHGATE_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const name = REUSE ?? `cephgate_viewer_${randomBytes(4).toString('hex')}`;
const DAYS = 30;

// Every SELECT the pages send, with its parameters, to EXPLAIN afterwards (the bench's own spy on pg).
const captured: { text: string; values: unknown[] }[] = [];
let capturing = false;
const query = pg.Client.prototype.query as (...args: unknown[]) => unknown;
pg.Client.prototype.query = function spy(this: pg.Client, ...args: unknown[]) {
  const q = args[0] as string | { text?: string; values?: unknown[] };
  const text = typeof q === 'string' ? q : (q?.text ?? '');
  // drizzle passes (config, params); plain callers (text, params) or a config with values.
  const values = (Array.isArray(args[1]) ? args[1] : typeof q === 'string' ? undefined : q?.values) as unknown[] | undefined;
  if (capturing && /^\s*(select|set local)/i.test(text)) captured.push({ text, values: values ?? [] });
  return query.apply(this, args);
} as typeof pg.Client.prototype.query;

// Connect for admin work to the `postgres` database: other suites drop and terminate theirs on this server.
const adminUrl = new URL(ADMIN_URL);
adminUrl.pathname = '/postgres';
const admin = new pg.Client({ connectionString: adminUrl.toString() });
admin.on('error', (err) => console.error(`admin connection: ${err.message}`));
await admin.connect();
if (REUSE === undefined) await admin.query(`create database ${name}`);
const u = new URL(ADMIN_URL);
u.pathname = `/${name}`;
const database = await openDatabase({ url: u.toString(), queryTimeoutMs: 0, poolMax: 4, onError: (err) => console.error(`pool: ${err.message}`) });

/**
 * N intents over the last DAYS days: 20 principals (alice ~15%), 50 pools, mostly mutations, 4% denied
 * (final status 403), 0.1% without an outcome (unknown); every other record has an outcome, 2% of
 * them Ceph errors. Intents take the odd seqs and outcomes the even ones; hashes are stand-ins.
 */
async function seed(): Promise<void> {
  const t0 = performance.now();
  const span = DAYS * 86_400_000;
  for (let done = 0; done < N; done += 100_000) {
    const n = Math.min(100_000, N - done);
    await database.db.execute(sql`insert into audit_intents (id, seq, prev_hash, hash, request_id, received_at, cluster, principal_id, principal_name,
        principal_groups, auth_method, client_ip, user_agent, method, raw_path, route_template, operation, path_params, pools, query, body,
        decision_effect, decision_rule_id, decision_reason, policy_version, ceph_account, final_status, error_code)
      select gen_random_uuid(), 2 * (${done} + g) - 1, md5(g::text), md5((g + 1)::text), 'req-' || (${done} + g),
        now() - ${span} * interval '1 ms' + (${done} + g) * (${span}::float8 / ${N}) * interval '1 ms', 'main', p.id, p.name,
        p.groups, 'oidc_bearer', '10.0.0.' || (g % 200), 'ceph-cli', m.method, '/api/pool/pool-' || (g % 50), '/api/pool/{pool_name}', m.op,
        jsonb_build_object('pool_name', 'pool-' || (g % 50)), jsonb_build_array('pool-' || (g % 50)), '{}',
        case when m.method = 'GET' then null else jsonb_build_object('pg_num', 32, 'application_metadata', jsonb_build_array('rbd')) end,
        d.effect, case when d.effect = 'deny' then 'team-never-osd' else 'team-own-pools' end, d.effect || 'ed by rule', 'v1',
        case when d.effect = 'allow' then 'operator' end, case when d.effect = 'deny' then 403 end, case when d.effect = 'deny' then 'policy_denied' end
      from generate_series(1, ${n}) g
      cross join lateral (select case when g % 100 < 15 then 'idp#alice' else 'idp#user' || (g % 19) end as id) pid
      cross join lateral (select pid.id, replace(pid.id, 'idp#', '') as name,
        case when pid.id = 'idp#alice' then '["team-a"]'::jsonb else jsonb_build_array('team-' || (g % 5)) end as groups) p
      cross join lateral (select (array['POST','PUT','DELETE','PUT','POST','GET'])[1 + (g / 7) % 6] as method,
        (array['Pool.create','Pool.set','Pool.delete','Pool.set','Pool.create','Pool.get'])[1 + (g / 7) % 6] as op) m
      cross join lateral (select case when (g * 7919) % 100 < 4 then 'deny' else 'allow' end as effect) d`);
  }
  await database.db.execute(sql`insert into audit_outcomes (record_id, seq, prev_hash, hash, forwarded_at, completed_at, upstream_status, status, error_code)
    select i.id, i.seq + 1, i.hash, md5(i.seq::text), i.received_at + interval '1 ms', i.received_at + interval '25 ms',
      case when i.seq % 50 = 1 then 500 else 200 end, case when i.seq % 50 = 1 then 500 else 200 end, null
    from audit_intents i where i.decision_effect = 'allow' and i.seq % 1000 <> 501`);
  await database.db.execute(sql`update audit_chain_head set seq = ${2 * N}, hash = md5('head') where id = 1`);
  await database.db.execute(sql`insert into audit_checkpoints (kind, seq, hash, created_at) values ('checkpoint', ${2 * N - 2}, md5('cp'), now())`);
  await database.db.execute(sql`vacuum analyze`);
  const size = await database.db.execute(sql`select pg_size_pretty(pg_database_size(current_database())) as size`);
  console.log(
    `seeded ${N} records (+ outcomes) in ${((performance.now() - t0) / 1000).toFixed(0)} s; database ${(size as unknown as { rows: { size: string }[] }).rows[0]?.size}`,
  );
}

const dave: Principal = {
  id: 'idp#dave',
  name: 'Dave',
  email: null,
  groups: ['auditors'],
  method: 'oidc_bearer',
  authenticatedAt: new Date(),
  apiKeyName: null,
  claims: {},
};
const serverMs: number[] = [];

function viewerApp(): Hono<AppEnv> {
  const log = createLogger({ level: 'silent', format: 'json' });
  const app = createWebApp(
    { trustedProxies: createTrustedProxies([]), now: () => new Date(), log, metrics: createMetrics({ defaultMetrics: false }) },
    {
      gatewayRoutes: (a) => {
        // Server time: from the request entering the gateway's routes to the whole page being built.
        a.use('/gateway/*', async (_c, next) => {
          const t = performance.now();
          await next();
          serverMs.push(performance.now() - t);
        });
        mountGatewayRoutes(a, {
          authorize: async () => dave,
          authenticate: async () => dave,
          matchRoute: createRouteMatcher({ catalogues: new Map([['main', loadCatalogue('pacific')]]), defaultCluster: 'main', allowUnknown: new Map() }),
          now: () => new Date(),
          audit: { db: database.db, flush: async () => {} } as unknown as AuditStore,
          apiKeys: {} as ApiKeyStore,
          apiKeyMaxLifetimeDays: 365,
          policies: {} as PolicyManager,
        });
      },
    },
  );
  return app;
}

/** Other suites on this shared server sometimes end every connection (57P01): try such a step again. */
async function retried<T>(step: () => Promise<T>, tries = 3): Promise<T> {
  for (let k = 1; ; k++) {
    try {
      return await step();
    } catch (err) {
      if (k >= tries || !/terminat|Connection terminated|57P01|ECONNRESET/i.test(`${(err as Error).message} ${(err as { code?: string }).code}`)) throw err;
      console.error(`retrying after: ${(err as Error).message}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const p90 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.9)] as number;

async function measure(base: string, label: string, path: string): Promise<void> {
  const get = async () => {
    const res = await fetch(`${base}${path}`, { headers: { accept: 'text/html' } });
    const body = await res.text();
    if (res.status !== 200) throw new Error(`${label}: ${res.status} ${body.slice(0, 300)}`);
    return body.length;
  };
  for (let k = 0; k < WARMUP; k++) await retried(get);
  serverMs.length = 0;
  let bytes = 0;
  for (let k = 0; k < RUNS; k++) bytes = await retried(get);
  const times = [...serverMs];
  captured.length = 0;
  capturing = true;
  await get();
  capturing = false;
  console.log(
    `\n### ${label}: server median ${median(times).toFixed(1)} ms, p90 ${p90(times).toFixed(1)} ms, max ${Math.max(...times).toFixed(1)} ms (${RUNS} runs, ${bytes} bytes)`,
  );
  console.log(`GET ${path}`);
  // Settings a page changed for its next query (`set local jit = off`) apply to that query's plan too.
  let settings: string[] = [];
  for (const q of captured) {
    if (/^\s*set local/i.test(q.text)) {
      settings.push(q.text.replace(/set local/i, 'set'));
      continue;
    }
    const before = settings;
    settings = [];
    const r = await retried(async () => {
      const c = new pg.Client({ connectionString: u.toString() });
      c.on('error', (err) => console.error(`explain connection: ${err.message}`));
      await c.connect();
      try {
        for (const s of before) await c.query(s);
        return await c.query({ text: `explain (analyze, buffers) ${q.text}`, values: q.values });
      } finally {
        await c.end().catch(() => {});
      }
    });
    if (before.length > 0) console.log(`-- (${before.join('; ')})`);
    console.log(`-- ${q.text.replace(/\s+/g, ' ').slice(0, 160)}${q.text.length > 160 ? '…' : ''}`);
    for (const row of r.rows as { 'QUERY PLAN': string }[]) console.log(`   ${row['QUERY PLAN']}`);
  }
}

try {
  await migrateDatabase(database);
  if (REUSE === undefined) await seed();
  const app = viewerApp();
  const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
  await new Promise<void>((r) => (server.listening ? r() : server.once('listening', () => r())));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const minute = (ms: number) => new Date(ms).toISOString().slice(0, 16);
  const tenDaysAgo = Date.now() - 10 * 86_400_000;
  const ids = (await database.db.execute(sql`select id from audit_intents where seq = ${N | 1}`)) as unknown as { rows: { id: string }[] };
  const firstAlice = await fetch(`${base}/gateway/v1/audit?principal=idp%23alice&decision=deny&limit=50`).then((r) => r.json() as Promise<{ next: string }>);
  const pages: [string, string][] = [
    ['first page (no filter)', '/gateway/audit'],
    ['filtered: principal alice + decision deny', '/gateway/audit?principal=idp%23alice&decision=deny'],
    ['filtered: the next page of that', `/gateway/audit?principal=idp%23alice&decision=deny&cursor=${firstAlice.next}`],
    ['filtered: pool', '/gateway/audit?pool=pool-7'],
    ['filtered: operation + decision', '/gateway/audit?operation=Pool.delete&decision=deny'],
    ['filtered: group', '/gateway/audit?group=team-a'],
    ['filtered: one hour, 10 days ago', `/gateway/audit?from=${minute(tenDaysAgo)}&to=${minute(tenDaysAgo + 3_600_000)}`],
    ['filtered: status 500', '/gateway/audit?status=500'],
    ['filtered: outcome unknown', '/gateway/audit?outcome=unknown'],
    ['record detail', `/gateway/audit/record/${ids.rows[0]?.id}`],
    ['summary per person, 7 days', '/gateway/audit/summary'],
    ['summary per pool, 7 days', '/gateway/audit/summary?by=pool'],
    ['chain page', '/gateway/audit/verify'],
  ];
  console.log(`\n${N} records, ${RUNS} runs per page after ${WARMUP} warm-up runs; plans from one more run`);
  for (const [label, path] of pages) await measure(base, label, path);
  server.close();
} finally {
  await database.close();
  if (!KEEP && REUSE === undefined) await admin.query(`drop database ${name} with (force)`);
  else console.log(`kept database ${name}`);
  await admin.end();
}
