// By-hand proof that startCluster() works for a release, and the figures of the README/CI notes:
// start/stop rounds in a row, clusters side by side, the dashboard API (login, health, a pool and an
// RBD image), the release's own `rbd`, release detection from /docs/openapi.json, daemon RSS, and
// nothing left behind (processes, mounts, dirs). Not part of `npm test`: it takes minutes.
// Usage: tsx scripts/ceph/selftest.ts [--release pacific|reef] [--rounds 3] [--parallel 2]

import assert from 'node:assert/strict';
import { readdir, readFile, readlink } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { releaseFromSpec } from '../../src/ceph/release.ts';
import { type CephCluster, type CephRelease, startCluster } from './cluster.ts';
import { reefRootDir } from './reef-root.ts';
import { mountsUnder } from './stale.ts';

const V1 = 'application/vnd.ceph.api.v1.0+json';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await sleep(250);
  }
}

/** Pids whose command line names the cluster dir (its daemons) and their RSS in MiB. */
async function daemons(dir: string): Promise<Array<{ pid: number; what: string; mib: number }>> {
  const out = [];
  for (const e of await readdir('/proc')) {
    const cmd = /^\d+$/.test(e) ? await readFile(`/proc/${e}/cmdline`, 'utf8').catch(() => '') : '';
    if (!cmd.includes(`${dir}/`)) continue;
    const kib = Number(/VmRSS:\s+(\d+)/.exec(await readFile(`/proc/${e}/status`, 'utf8').catch(() => ''))?.[1] ?? 0);
    const argv = cmd.split('\0');
    out.push({ pid: Number(e), what: `${argv[0]}.${argv[argv.indexOf('-i') + 1]}`, mib: Math.round(kib / 1024) });
  }
  return out;
}

/** What must be gone after stop(): daemons, the dir, and any mount in or under the chroot. */
async function leftovers(c: CephCluster): Promise<string[]> {
  const left = (await daemons(c.dir)).map((d) => `process ${d.pid} ${d.what}`);
  if (
    await readdir(c.dir).then(
      () => true,
      () => false,
    )
  )
    left.push(`dir ${c.dir}`);
  if (c.release === 'reef') {
    left.push(...(await mountsUnder(reefRootDir())).map((m) => `mount ${m}`));
    for (const e of await readdir('/proc')) {
      const root = /^\d+$/.test(e) ? await readlink(`/proc/${e}/root`).catch(() => '') : '';
      const cmd = root.startsWith(reefRootDir()) ? await readFile(`/proc/${e}/cmdline`, 'utf8').catch(() => '') : '';
      if (cmd.includes(`${c.dir}/`)) left.push(`process ${e} in the chroot`);
    }
  }
  return left;
}

/** Login, health, a pool and an RBD image through the dashboard; the image seen by the release's rbd. */
async function exercise(c: CephCluster): Promise<string> {
  const url = await c.activeDashboardUrl();
  const login = await fetch(`${url}/api/auth`, {
    method: 'POST',
    headers: { Accept: V1, 'Content-Type': 'application/json' },
    body: JSON.stringify({ username: c.adminUser, password: c.adminPassword }),
  });
  assert.equal(login.status, 201, 'POST /api/auth');
  const auth = { Accept: V1, 'Content-Type': 'application/json', Authorization: `Bearer ${((await login.json()) as { token: string }).token}` };
  const health = await fetch(`${url}/api/health/minimal`, { headers: auth });
  assert.equal(health.status, 200, 'GET /api/health/minimal');
  const status = ((await health.json()) as { health: { status: string } }).health.status;
  const pool = await fetch(`${url}/api/pool`, {
    method: 'POST',
    headers: auth,
    body: JSON.stringify({ pool: 'st-rbd', pool_type: 'replicated', pg_num: 8, application_metadata: ['rbd'] }),
  });
  assert.ok([201, 202].includes(pool.status), `POST /api/pool: ${pool.status} ${await pool.text()}`);
  await until('pool st-rbd', 60_000, async () => (await c.ceph(['osd', 'pool', 'ls'])).split('\n').includes('st-rbd'));
  const image = await fetch(`${url}/api/block/image`, {
    method: 'POST',
    headers: auth,
    body: JSON.stringify({ pool_name: 'st-rbd', name: 'img1', size: 64 << 20 }),
  });
  assert.ok([201, 202].includes(image.status), `POST /api/block/image: ${image.status} ${await image.text()}`);
  await until('image st-rbd/img1 through the dashboard', 60_000, async () => {
    const res = await fetch(`${url}/api/block/image/st-rbd%2Fimg1`, { headers: auth });
    await res.body?.cancel();
    return res.status === 200;
  });
  assert.equal((await c.cli('rbd', ['ls', 'st-rbd'])).trim(), 'img1', "the release's own rbd lists the image");
  const version = (await c.cli('rbd', ['--version'])).trim().split(' ').slice(0, 3).join(' ');
  const spec = await fetch(`${url}/docs/openapi.json`);
  const detected = releaseFromSpec(await spec.json());
  assert.equal(detected, c.release, 'release detected from /docs/openapi.json');
  return `${status}, pool+image via API, rbd ${version}, openapi -> ${detected}`;
}

async function once(release: CephRelease, name: string, mgrs: number): Promise<CephCluster> {
  const t0 = Date.now();
  const c = await startCluster({ release, name, mgrs, ...(process.env.VERBOSE ? { log: (l: string) => console.error(l) } : {}) });
  const ds = await daemons(c.dir);
  console.log(
    `${name}: up in ${((Date.now() - t0) / 1000).toFixed(1)} s; RSS ${ds.reduce((a, d) => a + d.mib, 0)} MiB (${ds.map((d) => `${d.what} ${d.mib}`).join(', ')})`,
  );
  return c;
}

async function stopChecked(c: CephCluster): Promise<void> {
  const t0 = Date.now();
  await c.stop();
  const left = await leftovers(c);
  assert.deepEqual(left, [], `left behind by ${c.name}`);
  console.log(`${c.name}: stopped in ${Date.now() - t0} ms, nothing left behind`);
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { release: { type: 'string' }, rounds: { type: 'string' }, parallel: { type: 'string' } } });
  const release = (values.release ?? 'reef') as CephRelease;
  for (let i = 0; i < Number(values.rounds ?? 3); i++) {
    const c = await once(release, `st-${release}-${i}`, 2);
    try {
      console.log(`${c.name}: ${await exercise(c)}`);
      const before = await c.activeDashboardUrl();
      await c.failActiveMgr();
      await until('the standby takes over', 60_000, async () => (await c.activeDashboardUrl()) !== before);
    } finally {
      await stopChecked(c);
    }
  }
  const n = Number(values.parallel ?? 2);
  if (n > 0) {
    const t0 = Date.now();
    const cs = await Promise.all(Array.from({ length: n }, (_, i) => once(release, `st-${release}-p${i}`, 1)));
    console.log(`${n} side by side: up in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    try {
      for (const c of cs) console.log(`${c.name}: ${await exercise(c)}`);
    } finally {
      for (const c of cs) await stopChecked(c);
    }
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e instanceof Error ? (e.stack ?? e.message) : e);
    process.exit(1);
  },
);
