// The test command (`npm test`): brings up the real services the suites need (a throwaway Ceph
// with two mgrs, a second Ceph for multi-cluster tests, Postgres when reachable, Chromium when
// installed), runs every test file with node's test runner, prints which suites were skipped and
// why, and tears everything down even when tests fail. Under CI=true a skipped suite fails.
//
// One pass per Ceph release. The first pass runs every selected file against Pacific (Debian 12's
// packages on this host). Then the release suites, the files that call releaseSuite()
// (test/support/requirements.ts), run again against Reef (18.2.7, the cached Debian 13 chroot of
// scripts/ceph, built first when missing): the same files, with the Reef clusters' environment and
// CEPHGATE_TEST_RELEASE=reef. Each pass starts and stops its own clusters, prints a header, its
// result and its skips; a failed pass fails the run.
//
// Usage: npm test [-- <file or folder filter> ...]   e.g. `npm test -- unit` or `npm test -- policy`
//   CEPHGATE_TEST_RELEASES=pacific   only these passes (comma-separated; default pacific,reef)
//   CEPHGATE_TEST_NO_CEPH=1          no cluster at all (the suites that need one are skipped)
//   CEPHGATE_TEST_VERBOSE=1          the clusters' start-up log

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { type CephCluster, type CephRelease, cephInstalled, ensureReefRoot, startCluster } from '../scripts/ceph/cluster.ts';
import { reefHostReady } from '../scripts/ceph/installed.ts';
import { RELEASES } from '../scripts/ceph/runner.ts';

const LEVELS = ['unit', 'integration', 'security'];
const filters = process.argv.slice(2);
const ci = process.env.CI === 'true';
const verbose = Boolean(process.env.CEPHGATE_TEST_VERBOSE);

function testFiles(): string[] {
  const files: string[] = [];
  for (const level of LEVELS) {
    const dir = join('test', level);
    if (!existsSync(dir)) continue;
    for (const f of readdirSync(dir).sort()) if (f.endsWith('.test.ts')) files.push(join(dir, f));
  }
  return filters.length === 0 ? files : files.filter((f) => filters.some((x) => f.includes(x)));
}

/** A file's code without its comment lines (a comment may quote `need(t, 'ceph')` without needing it). */
const source = (f: string) =>
  readFileSync(f, 'utf8')
    .split('\n')
    .filter((l) => !/^\s*(\/\/|\/\*|\*)/.test(l))
    .join('\n');
/** The shared clusters are brought up only when a selected file asks for them (`need(t, 'ceph')`, `need(t, 'ceph2')`). */
const usesCeph = (files: string[]) => files.some((f) => /need\([^)]*'ceph2?'/.test(source(f)));
const usesCeph2 = (files: string[]) => files.some((f) => /need\([^)]*'ceph2'/.test(source(f)));
/** A release suite runs once per release (requirements.ts releaseSuite()). */
const isReleaseSuite = (f: string) => /\breleaseSuite\(\)/.test(source(f));

function releasesToRun(): CephRelease[] {
  const wanted = (process.env.CEPHGATE_TEST_RELEASES ?? RELEASES.join(',')).split(',').filter(Boolean);
  const unknown = wanted.filter((r) => !(RELEASES as readonly string[]).includes(r));
  if (unknown.length > 0) throw new Error(`CEPHGATE_TEST_RELEASES: unknown ${unknown.join(', ')} (one of ${RELEASES.join(', ')})`);
  return RELEASES.filter((r) => wanted.includes(r));
}

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

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/**
 * Reef's programs live in a chroot that a clean machine builds first (~90 s; a lock makes parallel
 * builders wait). Returns why Reef cannot run here, or null. The build's time is printed: it is
 * the main cost of Reef on a clean CI machine.
 */
async function ensureReef(): Promise<string | null> {
  const host = reefHostReady();
  if (!host.ok) return host.reason;
  const t0 = Date.now();
  try {
    const root = await ensureReefRoot({ log: (line) => console.log(`# [reef-root] ${line}`) });
    console.log(`# Reef chroot ${root} ready in ${seconds(Date.now() - t0)}`);
  } catch (err) {
    return `the Reef chroot could not be built: ${(err as Error).message.split('\n')[0]}`;
  }
  const installed = cephInstalled('reef');
  return installed.ok ? null : installed.reason;
}

/** Starts the pass's shared clusters and publishes them to the tests (test/support/requirements.ts testEnv). */
async function startSharedClusters(release: CephRelease, files: string[], env: NodeJS.ProcessEnv): Promise<void> {
  if (process.env.CEPHGATE_TEST_NO_CEPH === '1' || !usesCeph(files)) {
    env.CEPHGATE_TEST_CEPH_MISSING = 'no selected suite needs Ceph';
    return;
  }
  const installed = cephInstalled(release);
  if (!installed.ok) {
    env.CEPHGATE_TEST_CEPH_MISSING = `${release}: ${installed.reason}`;
    env.CEPHGATE_TEST_CEPH2_MISSING = env.CEPHGATE_TEST_CEPH_MISSING;
    return;
  }
  const started = Date.now();
  const log = (line: string) => verbose && console.error(`[ceph] ${line}`);
  const second = usesCeph2(files);
  try {
    const [one, two] = await Promise.all([
      startCluster({ release, name: `test-${release}-a`, mgrs: 2, log }),
      second ? startCluster({ release, name: `test-${release}-b`, mgrs: 1, log }) : undefined,
    ]);
    clusters.push(one, ...(two ? [two] : []));
    env.CEPHGATE_TEST_CEPH_URL = await one.activeDashboardUrl();
    env.CEPHGATE_TEST_CEPH_URLS = one.dashboardUrls.join(',');
    env.CEPHGATE_TEST_CEPH_CONF = one.conf;
    env.CEPHGATE_TEST_CEPH_ADMIN_USER = one.adminUser;
    env.CEPHGATE_TEST_CEPH_ADMIN_PASSWORD = one.adminPassword;
    if (two) {
      env.CEPHGATE_TEST_CEPH2_URL = await two.activeDashboardUrl();
      env.CEPHGATE_TEST_CEPH2_CONF = two.conf;
      env.CEPHGATE_TEST_CEPH2_ADMIN_PASSWORD = two.adminPassword;
    } else env.CEPHGATE_TEST_CEPH2_MISSING = 'no selected suite needs a second Ceph';
    const version = (await one.ceph(['version'])).trim();
    console.log(
      `# ${release}: real Ceph clusters up in ${seconds(Date.now() - started)}: ${env.CEPHGATE_TEST_CEPH_URL} (2 mgrs)${two ? `, ${env.CEPHGATE_TEST_CEPH2_URL}` : ''}; ${version}`,
    );
  } catch (err) {
    env.CEPHGATE_TEST_CEPH_MISSING = `${release}: Ceph failed to start: ${(err as Error).message.split('\n')[0]}`;
    env.CEPHGATE_TEST_CEPH2_MISSING = env.CEPHGATE_TEST_CEPH_MISSING;
    console.error(`# ${env.CEPHGATE_TEST_CEPH_MISSING}`);
  }
}

interface PassResult {
  readonly release: CephRelease;
  readonly files: number;
  readonly code: number;
  /** node's summary: tests, pass, fail, cancelled, skipped, todo. */
  readonly counts: Record<string, number>;
  readonly ms: number;
  /** One line per skipped test: `<test>\t<requirement>\t<reason>`. */
  readonly skips: string[];
}

/** Runs node's test runner on `files`, its output shown as it comes; returns its exit code and summary counts. */
function runNodeTests(files: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; counts: Record<string, number> }> {
  // On a terminal the runner would choose the spec reporter itself; the pipe (read for the summary) would make it TAP.
  const reporter = process.stdout.isTTY ? ['--test-reporter=spec'] : [];
  const counts: Record<string, number> = {};
  let partial = '';
  const summaryLine = /^(?:# |ℹ )(tests|pass|fail|cancelled|skipped|todo) (\d+)$/;
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', ...reporter, ...files], {
      env,
      stdio: ['inherit', 'pipe', 'inherit'],
    });
    child.stdout.on('data', (chunk: Buffer) => {
      process.stdout.write(chunk);
      const lines = (partial + chunk.toString('utf8')).split('\n');
      partial = lines.pop() ?? '';
      for (const l of lines) {
        // The last summary wins: it is the runner's own, at the very end.
        const m = summaryLine.exec(l.replace(/\x1b\[[0-9;]*m/g, '').trimEnd());
        if (m?.[1] && m[2]) counts[m[1]] = Number(m[2]);
      }
    });
    child.on('exit', (c, signal) => resolve({ code: c ?? (signal ? 1 : 0), counts }));
  });
}

async function runPass(release: CephRelease, files: string[], baseEnv: NodeJS.ProcessEnv): Promise<PassResult> {
  const t0 = Date.now();
  console.log(`# ==== release ${release}: ${files.length} file(s) ====`);
  const env: NodeJS.ProcessEnv = { ...baseEnv, CEPHGATE_TEST_RELEASE: release };
  const skipsDir = mkdtempSync(join(tmpdir(), 'cephgate-skips-'));
  env.CEPHGATE_TEST_SKIPS_FILE = join(skipsDir, 'skips.tsv');
  try {
    if (release === 'reef') {
      const missing = await ensureReef();
      // The suites skip with this reason (and fail under CI=true), like any missing requirement.
      if (missing !== null) console.log(`# reef: ${missing}`);
    }
    await startSharedClusters(release, files, env);
    const { code, counts } = await runNodeTests(files, env);
    await teardown();
    const skipsFile = env.CEPHGATE_TEST_SKIPS_FILE;
    const skips = existsSync(skipsFile) ? readFileSync(skipsFile, 'utf8').trim().split('\n').filter(Boolean) : [];
    return { release, files: files.length, code, counts, ms: Date.now() - t0, skips };
  } finally {
    await teardown();
    rmSync(skipsDir, { recursive: true, force: true });
  }
}

function report(r: PassResult): string {
  const c = (k: string) => r.counts[k] ?? 0;
  return `release ${r.release}: ${r.files} file(s), ${c('tests')} tests, pass ${c('pass')}, fail ${c('fail')}, cancelled ${c('cancelled')}, skipped ${c('skipped')}${r.code === 0 ? '' : `, exit ${r.code}`} (${seconds(r.ms)})`;
}

async function main(): Promise<number> {
  const files = testFiles();
  if (files.length === 0) {
    console.error(`no test files match ${filters.join(' ')}`);
    return 1;
  }
  const env: NodeJS.ProcessEnv = { ...process.env };
  const dbUrl = await postgresUrl();
  if (dbUrl) env.CEPHGATE_TEST_DATABASE_URL = dbUrl;
  else env.CEPHGATE_TEST_POSTGRES_MISSING = process.env.CEPHGATE_TEST_POSTGRES_MISSING;

  if (existsSync('/usr/bin/chromium')) env.CEPHGATE_TEST_CHROMIUM = '/usr/bin/chromium';
  else env.CEPHGATE_TEST_CHROMIUM_MISSING = 'Chromium not installed (apt-get install chromium)';

  // Pacific runs everything (the files that need no Ceph at all, once); later releases the release suites.
  const passes = releasesToRun()
    .map((release, i) => ({ release, files: i === 0 && release === 'pacific' ? files : files.filter(isReleaseSuite) }))
    .filter((p) => p.files.length > 0);
  if (passes.length === 0) {
    console.error(`no release suite matches ${filters.join(' ')} for ${releasesToRun().join(', ')}`);
    return 1;
  }
  const results: PassResult[] = [];
  for (const p of passes) {
    const r = await runPass(p.release, p.files, env);
    console.log(`# ==== ${report(r)} ====`);
    results.push(r);
  }

  let code = results.some((r) => r.code !== 0) ? 1 : 0;
  const skipped = results.flatMap((r) => r.skips.map((l) => ({ release: r.release, line: l })));
  if (skipped.length > 0) {
    const byReason = new Map<string, number>();
    for (const { release, line } of skipped) {
      const [, what, reason] = line.split('\t');
      const key = `${release}: ${what}: ${reason}`;
      byReason.set(key, (byReason.get(key) ?? 0) + 1);
    }
    console.log(`# skipped ${skipped.length} test(s) for missing real dependencies:`);
    for (const [r, n] of byReason) console.log(`#   ${n} x ${r}`);
    if (ci) {
      console.log('# CI=true: skipped integration tests fail the run');
      code = 1;
    }
  } else console.log('# skipped suites: none');
  for (const r of results) console.log(`# ${report(r)}`);
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
