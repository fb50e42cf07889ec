// Command line around cluster.ts: `up` runs a throwaway Ceph until SIGINT/SIGTERM (for the demo and
// manual testing), `check` reports whether the Ceph packages needed for it are installed.
// Usage: tsx scripts/ceph/cli.ts up [--mgrs N] [--name X] | tsx scripts/ceph/cli.ts check

import { parseArgs } from 'node:util';
import { cephInstalled, startCluster } from './cluster.ts';

async function main(): Promise<number> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: { mgrs: { type: 'string' }, name: { type: 'string' }, quiet: { type: 'boolean', short: 'q' } },
  });
  const command = positionals[0];
  if (command === 'check') {
    const r = cephInstalled();
    console.log(r.ok ? 'ceph: installed' : `ceph: ${r.reason}`);
    return r.ok ? 0 : 1;
  }
  if (command !== 'up') {
    console.error('usage: tsx scripts/ceph/cli.ts up [--mgrs N] [--name X] [--quiet] | check');
    return 2;
  }
  const mgrs = values.mgrs === undefined ? 1 : Number(values.mgrs);
  // Progress goes to stderr so stdout carries exactly one JSON line for scripts to read.
  const cluster = await startCluster({
    mgrs,
    ...(values.name === undefined ? {} : { name: values.name }),
    ...(values.quiet ? {} : { log: (line: string) => console.error(line) }),
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
      dir: cluster.dir,
      conf: cluster.conf,
      dashboardUrls: cluster.dashboardUrls,
      activeDashboardUrl: await cluster.activeDashboardUrl(),
      adminUser: cluster.adminUser,
      adminPassword: cluster.adminPassword,
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
