// `cephgate serve` alone vs `cephgate serve --workers N` (issue 17): the production artifact (`npm run build`,
// plain node, a config file, the Postgres audit store, the example policies, an RS256 bearer from the dev
// IdP) in front of the stub upstream, `GET /api/pool` at 50 connections, alternated three times so drift
// does not favour one side. Reports req/s, latency, the RSS of the whole process tree, and how long a
// graceful stop (SIGTERM) took. The load generator, the stub and Postgres share the machine's cores.
// Run: npx tsx bench/workers.ts [--duration 10] [--connections 50] [--workers 2]

import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { stringify } from 'yaml';
import { startDevIdp } from '../scripts/dev-idp/provider.ts';
import type { LoadJob, LoadResult } from './load.ts';
import { BENCH_DIR, freePort, rssMb, runJson, startTsChild } from './proc.ts';

const ROOT = join(BENCH_DIR, '..');
const { values: a } = parseArgs({
  options: { duration: { type: 'string', default: '10' }, connections: { type: 'string', default: '50' }, workers: { type: 'string', default: '2' } },
});
const ADMIN_URL = process.env.CEPHGATE_BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const say = (s: string) => console.error(`# ${s}`);
const work = mkdtempSync(join(tmpdir(), 'cephgate-bench-workers-'));

const admin = new pg.Client({ connectionString: ADMIN_URL });
await admin.connect();
const dbName = `cephgate_bench_${randomBytes(4).toString('hex')}`;
await admin.query(`CREATE DATABASE ${dbName}`);
const dbUrl = (() => {
  const u = new URL(ADMIN_URL);
  u.pathname = `/${dbName}`;
  return u.toString();
})();

const stub = await startTsChild('stub-upstream.ts', []);
const idp = await startDevIdp({ port: 0 });
let gateway: ChildProcess | null = null;

/** One `cephgate serve` (with `--workers n` when n > 0): ready on its admin listener, its log in a file. */
async function startServe(workers: number): Promise<{ url: string; proc: ChildProcess }> {
  const [publicPort, adminPort] = [await freePort(), await freePort()];
  const configFile = join(work, `cephgate-${workers}.yaml`);
  writeFileSync(
    configFile,
    stringify({
      server: { listen: { host: '127.0.0.1', port: publicPort } },
      admin: { listen: { host: '127.0.0.1', port: adminPort } },
      logging: { level: 'info', format: 'json' },
      ceph: {
        clusters: [
          {
            name: 'main',
            dashboards: [`http://127.0.0.1:${stub.info.port}`],
            release: 'pacific',
            accounts: ['reader', 'operator', 'admin'].map((name) => ({ name, username: name, password_env: 'CG_BENCH_PW' })),
          },
        ],
      },
      identity: { issuers: [{ name: 'dev', issuer: idp.issuer, audiences: ['cephgate'] }] },
      policy: { dir: join(ROOT, 'policies'), watch: false },
      audit: { database_url_env: 'CG_BENCH_DATABASE_URL' },
    }),
  );
  const out = openSync(join(work, `gateway-${workers}.log`), 'a');
  const args = [join(ROOT, 'dist', 'src', 'cli.js'), 'serve', '--config', configFile, ...(workers > 0 ? ['--workers', String(workers)] : [])];
  const proc = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, CG_BENCH_PW: 'bench', CG_BENCH_DATABASE_URL: dbUrl },
    stdio: ['ignore', out, out],
  });
  for (let i = 0; ; i++) {
    const ready = await fetch(`http://127.0.0.1:${adminPort}/readyz`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ready) break;
    if (i > 240 || proc.exitCode !== null) throw new Error(`cephgate serve not ready; see ${join(work, `gateway-${workers}.log`)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  return { url: `http://127.0.0.1:${publicPort}`, proc };
}

/** SIGTERM and the time until the process (and its workers) exited; its exit code. */
async function stopServe(proc: ChildProcess): Promise<{ ms: number; code: number | null }> {
  const t0 = performance.now();
  const code = await new Promise<number | null>((resolve) => {
    proc.once('exit', (c) => resolve(c));
    proc.kill('SIGTERM');
  });
  return { ms: Math.round(performance.now() - t0), code };
}

interface Row {
  readonly target: string;
  readonly rps: number[];
  readonly p50: number[];
  readonly p99: number[];
  readonly rssMb: number[];
  readonly codes: Record<string, number>[];
  readonly stop: { ms: number; code: number | null }[];
}

try {
  say('building dist/ (npm run build)');
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: 'inherit' });
  // The schema once, before either side starts (as an operator migrates before a rollout).
  execFileSync(process.execPath, [join(ROOT, 'dist', 'src', 'cli.js'), 'migrate'], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: dbUrl },
    stdio: 'ignore',
  });
  const token = await idp.tokenFor('carol'); // readers -> the reader account
  const n = Number(a.workers);
  const rows: Row[] = [0, n].map((w) => ({ target: w === 0 ? 'serve' : `serve --workers ${w}`, rps: [], p50: [], p99: [], rssMb: [], codes: [], stop: [] }));
  for (let round = 0; round < 3; round++) {
    for (const [i, w] of [0, n].entries()) {
      const row = rows[i] as Row;
      say(`round ${round + 1}: ${row.target}`);
      const s = await startServe(w);
      gateway = s.proc;
      const job: LoadJob = {
        kind: 'load',
        url: s.url,
        connections: Number(a.connections),
        duration: Number(a.duration),
        warmup: 2,
        requests: [{ method: 'GET', path: '/api/pool', headers: { accept: 'application/json', authorization: `Bearer ${token}` } }],
      };
      const r = (await runJson<{ result: LoadResult }>('load.ts', [JSON.stringify(job)])).result;
      row.rps.push(Math.round(r.rps));
      row.p50.push(r.p50);
      row.p99.push(r.p99);
      row.codes.push(r.statusCodes);
      row.rssMb.push(Math.round(rssMb(s.proc.pid as number, true)));
      row.stop.push(await stopServe(s.proc));
      gateway = null;
    }
  }
  const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)] as number;
  console.log(`\nGET /api/pool, ${a.connections} connections, ${a.duration} s per run, three alternating runs each (${new Date().toISOString()})\n`);
  console.log(
    `${'target'.padEnd(22)}${'req/s (each)'.padEnd(24)}${'median'.padStart(8)}${'p50 ms'.padStart(8)}${'p99 ms'.padStart(8)}${'RSS MB'.padStart(8)}${'stop ms'.padStart(9)}  codes`,
  );
  for (const r of rows)
    console.log(
      `${r.target.padEnd(22)}${r.rps.join(', ').padEnd(24)}${String(median(r.rps)).padStart(8)}${String(median(r.p50)).padStart(8)}${String(median(r.p99)).padStart(8)}${String(median(r.rssMb)).padStart(8)}${String(median(r.stop.map((s) => s.ms))).padStart(9)}  ${JSON.stringify(r.codes[0])} exit ${r.stop.map((s) => s.code).join(',')}`,
    );
  const ratio = median((rows[1] as Row).rps) / median((rows[0] as Row).rps);
  console.log(`\n${(rows[1] as Row).target} / serve: ${ratio.toFixed(2)}x req/s (medians)`);
} finally {
  if (gateway !== null) gateway.kill('SIGKILL');
  stub.proc.kill();
  await idp.stop();
  await admin.query(`DROP DATABASE ${dbName} WITH (FORCE)`);
  await admin.end();
  rmSync(work, { recursive: true, force: true });
}
process.exit(0);
