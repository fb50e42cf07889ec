// Records the Ceph dashboard answers the bench stub serves (bench/fixtures/*.json): starts a throwaway
// cluster, creates an RBD pool and two images through the dashboard API, saves the answers. Run once: `tsx bench/record-fixtures.ts`.

import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startCluster } from '../scripts/ceph/cluster.ts';
import type { Fixture } from './fixtures.ts';

const OUT = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');
const v = (version: string) => `application/vnd.ceph.api.v${version}+json`;
/** Headers a Ceph answer carries that the stub must reproduce (the rest is per-connection noise). */
const KEEP = ['content-type'];

async function call(base: string, token: string | null, method: string, path: string, version: string, body?: unknown): Promise<Fixture> {
  const headers: Record<string, string> = { accept: v(version) };
  if (token !== null) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${base}${path}`, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  const text = await res.text();
  const kept: Record<string, string> = {};
  for (const k of KEEP) {
    const val = res.headers.get(k);
    if (val !== null) kept[k] = val;
  }
  if (res.status >= 400) throw new Error(`${method} ${path} answered ${res.status}: ${text.slice(0, 300)}`);
  return { method, path, status: res.status, headers: kept, body: text, recordedAt: new Date().toISOString() };
}

async function main(): Promise<void> {
  const cluster = await startCluster({ name: 'bench-record', log: (l) => console.error(l) });
  try {
    const base = await cluster.activeDashboardUrl();
    await cluster.ceph(['osd', 'pool', 'create', 'rbd-bench', '8']);
    await cluster.ceph(['osd', 'pool', 'application', 'enable', 'rbd-bench', 'rbd']);
    const login = await call(base, null, 'POST', '/api/auth', '1.0', { username: cluster.adminUser, password: cluster.adminPassword });
    const token = (JSON.parse(login.body) as { token: string }).token;
    // The stub issues its own tokens; the recorded one (and the admin's name) is not kept.
    login.body = JSON.stringify({ ...(JSON.parse(login.body) as object), token: '<issued by the stub>' });
    const created: Fixture[] = [];
    for (const name of ['vm-disk-1', 'vm-disk-2']) {
      created.push(await call(base, token, 'POST', '/api/block/image', '1.0', { pool_name: 'rbd-bench', name, size: 1 << 30, features: ['layering'] }));
    }
    const fixtures: Record<string, Fixture> = {
      'auth-login': login,
      'pool-list': await call(base, token, 'GET', '/api/pool', '1.0'),
      'health-full': await call(base, token, 'GET', '/api/health/full', '1.0'),
      'rbd-image-list': await call(base, token, 'GET', '/api/block/image?pool_name=rbd-bench', '2.0'),
      'rbd-image-create': created[0] as Fixture,
    };
    await mkdir(OUT, { recursive: true });
    for (const [name, f] of Object.entries(fixtures)) {
      await writeFile(join(OUT, `${name}.json`), `${JSON.stringify(f, null, 2)}\n`);
      console.log(`${name}: ${f.method} ${f.path} -> ${f.status}, ${Buffer.byteLength(f.body)} bytes`);
    }
  } finally {
    await cluster.stop();
  }
}

await main();
