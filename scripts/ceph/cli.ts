// Command line around cluster.ts: `up` runs a throwaway Ceph until SIGINT/SIGTERM (for the demo and
// manual testing), `check` reports whether a release's Ceph is there to start one, `ensure-reef`
// builds (or completes, or just checks) the cached Reef chroot, `dashboard-dir` prints where a
// release's dashboard sources are.
// Usage: tsx scripts/ceph/cli.ts up [--release pacific|reef] [--mgrs N] [--name X] [--quiet]
//        tsx scripts/ceph/cli.ts check [--release pacific|reef]
//        tsx scripts/ceph/cli.ts ensure-reef
//        tsx scripts/ceph/cli.ts dashboard-dir [--release pacific|reef]

import { parseArgs } from 'node:util';
import { type CephRelease, cephInstalled, ensureReefRoot, reefDashboardDir, startCluster } from './cluster.ts';
import { RELEASES } from './runner.ts';

const USAGE = 'usage: tsx scripts/ceph/cli.ts up [--release pacific|reef] [--mgrs N] [--name X] [--quiet] | check [--release R] | ensure-reef | dashboard-dir [--release R]';

async function main(): Promise<number> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: { mgrs: { type: 'string' }, name: { type: 'string' }, release: { type: 'string' }, quiet: { type: 'boolean', short: 'q' } },
  });
  const command = positionals[0];
  const release = (values.release ?? 'pacific') as CephRelease;
  if (!RELEASES.includes(release)) {
    console.error(`unknown --release ${values.release}; one of ${RELEASES.join(', ')}`);
    return 2;
  }
  // Progress goes to stderr so stdout carries exactly one line for scripts to read.
  const log = values.quiet ? undefined : (line: string) => console.error(line);
  if (command === 'check') {
    const r = cephInstalled(release);
    console.log(r.ok ? `ceph ${release}: installed` : `ceph ${release}: ${r.reason}`);
    return r.ok ? 0 : 1;
  }
  if (command === 'ensure-reef') {
    const t0 = Date.now();
    console.log(await ensureReefRoot({ log: (line) => console.error(`[reef-root] ${line}`) }));
    console.error(`[reef-root] ready (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    return 0;
  }
  if (command === 'dashboard-dir') {
    console.log(release === 'reef' ? reefDashboardDir() : '/usr/share/ceph/mgr/dashboard');
    return 0;
  }
  if (command !== 'up') {
    console.error(USAGE);
    return 2;
  }
  const mgrs = values.mgrs === undefined ? 1 : Number(values.mgrs);
  const cluster = await startCluster({
    release,
    mgrs,
    ...(values.name === undefined ? {} : { name: values.name }),
    ...(log ? { log } : {}),
  });
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.error(`${signal}: stopping cluster ${cluster.name}`);
    await cluster.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGHUP', () => void shutdown('SIGHUP'));
  console.log(
    JSON.stringify({
      release: cluster.release,
      dir: cluster.dir,
      conf: cluster.conf,
      dashboardUrls: cluster.dashboardUrls,
      activeDashboardUrl: await cluster.activeDashboardUrl(),
      adminUser: cluster.adminUser,
      adminPassword: cluster.adminPassword,
      dashboardSourceDir: cluster.dashboardSourceDir,
      // For a shell: the release's own CLI against this cluster (Reef's lives in the chroot).
      cli: [cluster.cliCommand('ceph', []).file, ...cluster.cliCommand('ceph', []).args],
    }),
  );
  // Stay alive until a signal arrives; the daemons are children of this process.
  setInterval(() => {}, 1 << 30);
  return 0;
}

main().then(
  (code) => {
    if (code !== 0) process.exit(code);
  },
  (e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  },
);
