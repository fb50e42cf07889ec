// What a rate-limit check costs per request, by counter store: rate-limiter-flexible in memory, and in the
// gateway database (Postgres; PGlite for reference), through the real `createRateLimits().check()`.
// Two scenarios: a per-principal rule over 50 callers (50 counters), and the same plus a cluster budget
// (one hot counter every request spends). Measured closed-loop (50 concurrent callers, as the benchmark's
// 50 connections: the most checks/s a store allows) and open-loop at the benchmark's rates (1,000/s, the
// audited-POST target, and 5,000/s, about the audited saturation), with per-check latency percentiles.
//
//   npx tsx bench/rate-limit-store.ts [--duration 5] [--database-url postgres://...] [--no-pglite]
//
// Postgres: a throwaway database on DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test), dropped after.

import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { rateLimitsConfigSchema } from '../src/config/rate-limits.ts';
import type { RouteMatch } from '../src/core/catalogue.ts';
import type { Principal } from '../src/core/principal.ts';
import { type Database, openDatabase } from '../src/db/database.ts';
import { migrateDatabase } from '../src/db/migrate.ts';
import { createRateLimits, type RateLimits } from '../src/limits/index.ts';

const { values: args } = parseArgs({
  strict: true,
  options: {
    duration: { type: 'string', default: '5' },
    'database-url': { type: 'string', default: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test' },
    'no-pglite': { type: 'boolean', default: false },
  },
});
const DURATION_MS = Number(args.duration) * 1000;
const CALLERS = 50;
const log = { debug() {}, info() {}, warn() {}, error() {} };
const route = { cluster: 'main', template: '/api/osd', params: {}, operation: { id: 'Osd.list' } } as unknown as RouteMatch;
const principals: Principal[] = Array.from({ length: CALLERS }, (_, i) => ({
  id: `bench#user${i}`,
  name: `user${i}`,
  email: null,
  groups: ['bench'],
  method: 'oidc_bearer',
  authenticatedAt: new Date(0),
  apiKeyName: null,
  claims: {},
}));

// Budgets far above the offered load: the cost measured is the counting, never a refusal.
const scenarios = {
  'per-principal rule': { rules: [{ name: 'per-user', reads: { requests: 1_000_000, window_seconds: 1 } }] },
  'rule + cluster budget': {
    rules: [{ name: 'per-user', reads: { requests: 1_000_000, window_seconds: 1 } }],
    clusters: [{ cluster: 'main', requests_per_second: 10_000_000 }],
  },
} as const;

interface Result {
  checks: number;
  perSecond: number;
  p50: number;
  p99: number;
  max: number;
  errors: number;
  /** Open loop: checks not started because too many were still waiting (the store is saturated). */
  dropped?: number;
}

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? 0;

function summarise(lat: number[], ms: number, errors: number): Result {
  lat.sort((a, b) => a - b);
  return { checks: lat.length, perSecond: Math.round((lat.length * 1000) / ms), p50: pct(lat, 50), p99: pct(lat, 99), max: lat.at(-1) ?? 0, errors };
}

async function once(l: RateLimits, i: number, lat: number[]): Promise<boolean> {
  const t = performance.now();
  const r = await l.check(principals[i % CALLERS] as Principal, route, 'GET');
  lat.push(performance.now() - t);
  return r.ok;
}

/** 50 callers, each checking again as soon as its last check answered. */
async function closedLoop(l: RateLimits): Promise<Result> {
  const lat: number[] = [];
  let errors = 0;
  const end = performance.now() + DURATION_MS;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: CALLERS }, async (_, c) => {
      for (let i = c; performance.now() < end; i += CALLERS) if (!(await once(l, i, lat))) errors++;
    }),
  );
  return summarise(lat, performance.now() - start, errors);
}

/** Checks started at a fixed rate whatever the answers do (latency includes any queueing in the store). */
async function openLoop(l: RateLimits, rate: number): Promise<Result> {
  const lat: number[] = [];
  const pending: Promise<void>[] = [];
  let errors = 0;
  let issued = 0;
  let dropped = 0;
  const start = performance.now();
  while (performance.now() - start < DURATION_MS) {
    const due = Math.floor(((performance.now() - start) * rate) / 1000);
    // A store that cannot keep up would pile up checks without end: beyond 5,000 in flight they are dropped (counted).
    for (; issued < due; issued++) {
      if (issued - lat.length > 5000) {
        dropped++;
        continue;
      }
      pending.push(once(l, issued, lat).then((ok) => void (ok || errors++)));
    }
    await new Promise((r) => setImmediate(r));
  }
  await Promise.all(pending);
  return { ...summarise(lat, performance.now() - start, errors), dropped };
}

async function throwawayPostgres(url: string): Promise<{ url: string; drop(): Promise<void> } | null> {
  const name = `cephgate_rlbench_${randomBytes(4).toString('hex')}`;
  const admin = async (sql: string) => {
    const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
    await c.connect();
    try {
      await c.query(sql);
    } finally {
      await c.end();
    }
  };
  try {
    await admin(`create database ${name}`);
  } catch (err) {
    console.error(`# no Postgres at ${url.replace(/:[^:@/]*@/, ':***@')}: ${(err as Error).message}`);
    return null;
  }
  const u = new URL(url);
  u.pathname = `/${name}`;
  return { url: u.toString(), drop: () => admin(`drop database if exists ${name} with (force)`) };
}

async function measure(label: string, database: Database | null, store: 'memory' | 'database'): Promise<void> {
  for (const [name, raw] of Object.entries(scenarios)) {
    const config = rateLimitsConfigSchema.parse({ enabled: true, store, ...raw });
    const l = createRateLimits({ config, db: (database as Database)?.db ?? (null as never), clusters: ['main'], log });
    await closedLoop(l); // warm-up: prepared statements, JIT
    const rows: [string, Result][] = [['closed loop, 50 callers', await closedLoop(l)]];
    for (const rate of [1000, 5000]) rows.push([`open loop, ${rate}/s`, await openLoop(l, rate)]);
    l.close();
    for (const [mode, r] of rows) {
      console.log(
        `| ${label} | ${name} | ${mode} | ${r.perSecond.toLocaleString('en')} | ${r.p50.toFixed(3)} | ${r.p99.toFixed(3)} | ${r.max.toFixed(1)} | ${r.errors} | ${r.dropped ?? '-'} |`,
      );
    }
  }
}

async function main(): Promise<void> {
  console.log(`# rate-limit store cost, ${new Date().toISOString()}, ${DURATION_MS / 1000} s per row, Node ${process.version}`);
  console.log('| store | scenario | load | checks/s | p50 ms | p99 ms | max ms | refused | not started |');
  console.log('|---|---|---|---|---|---|---|---|---|');
  await measure('memory', null, 'memory');
  const pgdb = await throwawayPostgres(args['database-url']);
  if (pgdb) {
    const database = await openDatabase({ url: pgdb.url, poolMax: 10 });
    try {
      await migrateDatabase(database);
      await measure('Postgres (pool 10)', database, 'database');
    } finally {
      await database.close();
      await pgdb.drop();
    }
  }
  if (!args['no-pglite']) {
    const database = await openDatabase({ pgliteDir: 'memory://' });
    await migrateDatabase(database);
    await measure('PGlite (memory)', database, 'database');
    await database.close();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
