// The two targets measured against a real Ceph (started here with scripts/ceph): throughput of a
// read through cephgate vs straight to the dashboard, and request coalescing: 200 clients polling
// /api/health/full every second, counting the calls cephgate actually sent to Ceph. The gateway is
// `cephgate serve` built with `npm run build`, in its own process, from a config file, as an operator
// runs it (in this process, the dev IdP's AsyncLocalStorage would tax every promise of the gateway).
// Run: npx tsx bench/ceph-real.ts [--duration 10] [--connections 10] [--pollers 200]

import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { request } from 'undici';
import { stringify } from 'yaml';
import { startCluster } from '../scripts/ceph/cluster.ts';
import { startDevIdp } from '../scripts/dev-idp/provider.ts';
import type { LoadJob, LoadResult } from './load.ts';
import { BENCH_DIR, cpuTicks, freePort, runJson } from './proc.ts';

const ROOT = join(BENCH_DIR, '..');

const { values: a } = parseArgs({
  options: { duration: { type: 'string', default: '10' }, connections: { type: 'string', default: '10' }, pollers: { type: 'string', default: '200' } },
});
const V1 = 'application/vnd.ceph.api.v1.0+json';
const work = mkdtempSync(join(tmpdir(), 'cephgate-bench-ceph-'));
const say = (s: string) => console.error(`# ${s}`);

/** CPU time of the cluster's ceph-mgr processes. */
function mgrTicks(): number {
  let total = 0;
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('ceph-mgr')) total += cpuTicks(pid);
    } catch {
      // gone meanwhile
    }
  }
  return total;
}

const cluster = await startCluster({ name: 'bench', log: () => {} });
let gateway: ChildProcess | null = null;
try {
  const dashboard = await cluster.activeDashboardUrl();
  await cluster.createDashboardUser('cg-reader', 'Reader-pw-1!', ['read-only']);
  const idp = await startDevIdp({ port: 0 });
  const [publicPort, adminPort] = [await freePort(), await freePort()];
  const configFile = join(work, 'cephgate.yaml');
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
            dashboards: [dashboard],
            release: 'pacific',
            default_account: 'reader',
            // The example policies name three accounts; reads only need the read-only one.
            accounts: ['reader', 'operator', 'admin'].map((name) => ({ name, username: 'cg-reader', password_env: 'CG_BENCH_READER_PW' })),
            coalesce: { routes: ['GET /api/health/full'], micro_cache_ms: 1000 },
          },
        ],
      },
      identity: { issuers: [{ name: 'dev', issuer: idp.issuer, audiences: ['cephgate'] }] },
      policy: { dir: join(ROOT, 'policies'), watch: false },
      audit: { pglite_dir: join(work, 'audit') },
    }),
  );
  // The production artifact: `npm run build`, then node dist/src/cli.js serve (no tsx in the process).
  say('building dist/ (npm run build)');
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: 'inherit' });
  // Its log (stdout: the access log, buffered as in production) goes to a file, as a collector would take it.
  const out = openSync(join(work, 'gateway.log'), 'a');
  gateway = spawn(process.execPath, [join(ROOT, 'dist', 'src', 'cli.js'), 'serve', '--config', configFile], {
    cwd: ROOT,
    env: { ...process.env, CG_BENCH_READER_PW: 'Reader-pw-1!' },
    stdio: ['ignore', out, out],
  });
  const gwUrl = `http://127.0.0.1:${publicPort}`;
  const adminUrl = `http://127.0.0.1:${adminPort}`;
  for (let i = 0; ; i++) {
    if (
      (await fetch(`${adminUrl}/readyz`).then(
        (r) => r.status,
        () => 0,
      )) === 200
    )
      break;
    if (i > 240 || gateway.exitCode !== null) throw new Error(`cephgate serve not ready; see ${join(work, 'gateway.log')}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  const gatewayPid = gateway.pid as number;
  const userToken = await idp.tokenFor('carol'); // readers -> the reader account
  const login = await request(`${dashboard}/api/auth`, {
    method: 'POST',
    headers: { accept: V1, 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'cg-reader', password: 'Reader-pw-1!' }),
  });
  const cephToken = ((await login.body.json()) as { token: string }).token;

  const job = (url: string, headers: Record<string, string>): LoadJob => ({
    kind: 'load',
    url,
    connections: Number(a.connections),
    duration: Number(a.duration),
    warmup: 2,
    requests: [{ method: 'GET', path: '/api/summary', headers }],
  });
  // Alternated, three times each: the mgr's throughput drifts over a run (caches, its own timers), and
  // measuring one side always first would hand the drift to the ratio.
  const runs: { direct: LoadResult[]; via: LoadResult[] } = { direct: [], via: [] };
  // CPU share of the mgr and of this process (the gateway) during each run: the mgr is one
  // GIL-bound process, and everything else shares the machine's other core with it.
  const cpu: { direct: { mgr: number; gateway: number }[]; via: { mgr: number; gateway: number }[] } = { direct: [], via: [] };
  const measured = async (side: 'direct' | 'via', url: string, headers: Record<string, string>) => {
    const mgr0 = mgrTicks();
    const gw0 = cpuTicks(gatewayPid);
    const t0 = performance.now();
    const r = (await runJson<{ result: LoadResult }>('load.ts', [JSON.stringify(job(url, headers))])).result;
    const secs = (performance.now() - t0) / 1000;
    cpu[side].push({ mgr: Math.round((mgrTicks() - mgr0) / secs), gateway: Math.round((cpuTicks(gatewayPid) - gw0) / secs) });
    runs[side].push(r);
  };
  for (let round = 0; round < 3; round++) {
    say(`round ${round + 1}: direct to the dashboard: GET /api/summary`);
    await measured('direct', dashboard, { accept: V1, authorization: `Bearer ${cephToken}` });
    say(`round ${round + 1}: through cephgate: GET /api/summary (RS256 token, example policies, version rewrite, token injection)`);
    await measured('via', gwUrl, { accept: 'application/json', authorization: `Bearer ${userToken}` });
  }
  const summed = (rs: LoadResult[]) => ({
    rps: Math.round(rs.reduce((n, r) => n + r.total, 0) / rs.reduce((n, r) => n + r.seconds, 0)),
    p50: rs.map((r) => r.p50),
    p99: rs.map((r) => r.p99),
    rpsEach: rs.map((r) => r.rps),
    codes: rs.map((r) => r.statusCodes),
  });
  const direct = summed(runs.direct);
  const via = summed(runs.via);

  // Coalescing: N pollers, each GET /api/health/full once a second; count what reached Ceph.
  // Answers that were not shared are the calls cephgate really sent to Ceph.
  const answers = async (shared: string) => {
    const text = await (await fetch(`${adminUrl}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith('cephgate_upstream_answers_total{') && l.includes(`shared="${shared}"`));
    return line === undefined ? 0 : Number(line.split(' ').at(-1));
  };
  const upstreamCalls = () => answers('no');
  const sharedBefore = { coalesced: await answers('coalesced'), cached: await answers('cached') };
  const pollers = Number(a.pollers);
  const seconds = Number(a.duration);
  say(`${pollers} clients polling /api/health/full every second for ${seconds} s`);
  const before = await upstreamCalls();
  let answered = 0;
  let failed = 0;
  await Promise.all(
    Array.from({ length: pollers }, async (_, i) => {
      await new Promise((r) => setTimeout(r, (i * 1000) / pollers)); // spread over the second, as real pollers are
      for (let s = 0; s < seconds; s++) {
        const t0 = Date.now();
        const res = await request(`${gwUrl}/api/health/full`, { headers: { authorization: `Bearer ${userToken}`, accept: 'application/json' } });
        await res.body.dump();
        if (res.statusCode === 200) answered++;
        else failed++;
        await new Promise((r) => setTimeout(r, Math.max(0, 1000 - (Date.now() - t0))));
      }
    }),
  );
  const sent = (await upstreamCalls()) - before;

  const result = {
    date: new Date().toISOString(),
    direct,
    via,
    cpuPercent: cpu,
    ratio: Math.round((via.rps / direct.rps) * 100) / 100,
    coalescing: {
      pollers,
      seconds,
      answered,
      failed,
      cephCalls: sent,
      cephCallsPerSecond: Math.round((sent / seconds) * 10) / 10,
      coalesced: (await answers('coalesced')) - sharedBefore.coalesced,
      cached: (await answers('cached')) - sharedBefore.cached,
    },
  };
  console.log(JSON.stringify(result, null, 2));
  await idp.stop();
} finally {
  gateway?.kill('SIGTERM');
  await cluster.stop();
  rmSync(work, { recursive: true, force: true });
}
