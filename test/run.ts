// The test command (`npm test`): brings up the real services the suites need (a throwaway Ceph
// with two mgrs, a second Ceph for multi-cluster tests, Postgres when reachable, Chromium when
// installed), runs every test file with node's test runner, prints which suites were skipped and
// why, and tears everything down even when tests fail. Under CI=true a skipped suite fails.
//
// Usage: npm test [-- <file or folder filter> ...]   e.g. `npm test -- unit` or `npm test -- policy`

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { type CephCluster, cephInstalled, startCluster } from '../scripts/ceph/cluster.ts';

const LEVELS = ['unit', 'integration', 'security'];
const filters = process.argv.slice(2);
const ci = process.env.CI === 'true';

function testFiles(): string[] {
  const files: string[] = [];
  for (const level of LEVELS) {
    const dir = join('test', level);
    if (!existsSync(dir)) continue;
    for (const f of readdirSync(dir).sort()) if (f.endsWith('.test.ts')) files.push(join(dir, f));
  }
  return filters.length === 0 ? files : files.filter((f) => filters.some((x) => f.includes(x)));
}

/** Ceph is brought up only when a selected file asks for it (`need(t, 'ceph')`). */
const usesCeph = (files: string[]) => files.some((f) => /need\([^)]*'ceph2?'/.test(readFileSync(f, 'utf8')));

async function postgresUrl(): Promise<string | null> {
  const url = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('select 1');
    return url;
  } catch (err) {
    process.env.CEPHGATE_TEST_POSTGRES_MISSING = `Postgres not reachable at ${url.replace(/:[^:@/]*@/, ':***@')} (${(err as Error).message})`;
    return null;
  } finally {
    await client.end().catch(() => {});
  }
}

const clusters: CephCluster[] = [];
async function teardown(): Promise<void> {
  await Promise.allSettled(clusters.splice(0).map((c) => c.stop()));
}
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    void teardown().finally(() => process.exit(130));
  });
}

async function main(): Promise<number> {
  const files = testFiles();
  if (files.length === 0) {
    console.error(`no test files match ${filters.join(' ')}`);
    return 1;
  }
  const env: NodeJS.ProcessEnv = { ...process.env };
  const skipsDir = mkdtempSync(join(tmpdir(), 'cephgate-skips-'));
  env.CEPHGATE_TEST_SKIPS_FILE = join(skipsDir, 'skips.tsv');

  const dbUrl = await postgresUrl();
  if (dbUrl) env.CEPHGATE_TEST_DATABASE_URL = dbUrl;
  else env.CEPHGATE_TEST_POSTGRES_MISSING = process.env.CEPHGATE_TEST_POSTGRES_MISSING;

  if (existsSync('/usr/bin/chromium')) env.CEPHGATE_TEST_CHROMIUM = '/usr/bin/chromium';
  else env.CEPHGATE_TEST_CHROMIUM_MISSING = 'Chromium not installed (apt-get install chromium)';

  const wantCeph = process.env.CEPHGATE_TEST_NO_CEPH !== '1' && usesCeph(files);
  const installed = cephInstalled();
  if (!wantCeph) {
    env.CEPHGATE_TEST_CEPH_MISSING = 'no selected suite needs Ceph';
  } else if (!installed.ok) {
    env.CEPHGATE_TEST_CEPH_MISSING = installed.reason;
    env.CEPHGATE_TEST_CEPH2_MISSING = installed.reason;
  } else {
    const started = Date.now();
    const log = (line: string) => process.env.CEPHGATE_TEST_VERBOSE && console.error(`[ceph] ${line}`);
    try {
      const [one, two] = await Promise.all([startCluster({ name: 'test-a', mgrs: 2, log }), startCluster({ name: 'test-b', mgrs: 1, log })]);
      clusters.push(one, two);
      env.CEPHGATE_TEST_CEPH_URL = await one.activeDashboardUrl();
      env.CEPHGATE_TEST_CEPH_URLS = one.dashboardUrls.join(',');
      env.CEPHGATE_TEST_CEPH_CONF = one.conf;
      env.CEPHGATE_TEST_CEPH_ADMIN_USER = one.adminUser;
      env.CEPHGATE_TEST_CEPH_ADMIN_PASSWORD = one.adminPassword;
      env.CEPHGATE_TEST_CEPH2_URL = await two.activeDashboardUrl();
      env.CEPHGATE_TEST_CEPH2_CONF = two.conf;
      env.CEPHGATE_TEST_CEPH2_ADMIN_PASSWORD = two.adminPassword;
      console.log(
        `# real Ceph clusters up in ${((Date.now() - started) / 1000).toFixed(1)} s: ${env.CEPHGATE_TEST_CEPH_URL} (2 mgrs), ${env.CEPHGATE_TEST_CEPH2_URL}`,
      );
    } catch (err) {
      env.CEPHGATE_TEST_CEPH_MISSING = `Ceph failed to start: ${(err as Error).message.split('\n')[0]}`;
      env.CEPHGATE_TEST_CEPH2_MISSING = env.CEPHGATE_TEST_CEPH_MISSING;
      console.error(`# ${env.CEPHGATE_TEST_CEPH_MISSING}`);
    }
  }

  const code = await new Promise<number>((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', ...files], { env, stdio: 'inherit' });
    child.on('exit', (c, signal) => resolve(c ?? (signal ? 1 : 0)));
  });
  await teardown();

  const skipsFile = env.CEPHGATE_TEST_SKIPS_FILE as string;
  if (existsSync(skipsFile)) {
    const lines = readFileSync(skipsFile, 'utf8').trim().split('\n').filter(Boolean);
    const byReason = new Map<string, number>();
    for (const l of lines) {
      const [, what, reason] = l.split('\t');
      byReason.set(`${what}: ${reason}`, (byReason.get(`${what}: ${reason}`) ?? 0) + 1);
    }
    console.log(`# skipped ${lines.length} test(s) for missing real dependencies:`);
    for (const [r, n] of byReason) console.log(`#   ${n} x ${r}`);
    if (ci && lines.length > 0) {
      console.log('# CI=true: skipped integration tests fail the run');
      rmSync(skipsDir, { recursive: true, force: true });
      return 1;
    }
  } else console.log('# skipped suites: none');
  rmSync(skipsDir, { recursive: true, force: true });
  return code;
}

main().then(
  (code) => process.exit(code),
  async (err) => {
    console.error(err);
    await teardown();
    process.exit(1);
  },
);
