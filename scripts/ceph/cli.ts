// Command line around cluster.ts: `up` runs a throwaway Ceph until SIGINT/SIGTERM (for the demo and
// manual testing), `check` reports whether a release's Ceph is there to start one, `ensure-reef`
// builds (or completes, or just checks) the cached Reef chroot, `dashboard-dir` prints where a
// release's dashboard sources are, `run` runs that release's own program (ceph, rbd, rados, ...)
// against a running cluster (Reef's live in the chroot; the host's are Pacific's), `exec` runs any
// program of the release without a cluster (Reef's Python on its dashboard sources, say).
// Usage: tsx scripts/ceph/cli.ts up [--release pacific|reef] [--mgrs N] [--name X] [--quiet]
//        tsx scripts/ceph/cli.ts check [--release pacific|reef]
//        tsx scripts/ceph/cli.ts ensure-reef
//        tsx scripts/ceph/cli.ts dashboard-dir [--release pacific|reef]
//        tsx scripts/ceph/cli.ts run [--release pacific|reef] --conf <dir>/ceph.conf -- rbd ls <pool>
//        tsx scripts/ceph/cli.ts exec [--release pacific|reef] -- /usr/bin/python3 - <dashboard dir> < script.py
//          (Reef: an argument naming a path inside the chroot by its host path, <chroot>/usr/...,
//          is passed as the path the program sees, /usr/...; stdin, stdout and stderr are this one's)

import { spawn } from 'node:child_process';
import { dirname, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { type CephRelease, cephInstalled, ensureReefRoot, reefDashboardDir, reefRootDir, startCluster } from './cluster.ts';
import { type Command, chrootCommand, chrootRunner, hostRunner, RELEASES, withPdeathsig } from './runner.ts';

const USAGE =
  'usage: tsx scripts/ceph/cli.ts up [--release pacific|reef] [--mgrs N] [--name X] [--quiet] | check [--release R] | ensure-reef | dashboard-dir [--release R] | run [--release R] --conf <ceph.conf> -- <program> [args...] | exec [--release R] -- <program> [args...]';

/** `run`: the release's program with `-c <conf>` first, its stdio this terminal's. */
async function runProgram(release: CephRelease, conf: string | undefined, argv: string[]): Promise<number> {
  const [program, ...args] = argv;
  if (!conf || !program) {
    console.error(USAGE);
    return 2;
  }
  const path = resolve(conf);
  const runner = release === 'reef' ? chrootRunner(reefRootDir(), dirname(path)) : hostRunner();
  return spawnInherit(runner.command(program, ['-c', path, ...args]));
}

/**
 * `exec`: a program of the release, no cluster involved. For Reef a host path under the chroot
 * becomes the path inside it, so a caller that knows Reef's dashboard as
 * `<chroot>/usr/share/ceph/mgr/dashboard` (cli.ts dashboard-dir) can hand it to Reef's own Python.
 */
async function execProgram(release: CephRelease, argv: string[]): Promise<number> {
  const [program, ...args] = argv;
  if (!program) {
    console.error(USAGE);
    return 2;
  }
  if (release !== 'reef') return spawnInherit(hostRunner().command(program, args));
  const ready = cephInstalled('reef');
  if (!ready.ok) {
    console.error(ready.reason);
    return 1;
  }
  const root = reefRootDir();
  const inside = (a: string) => {
    const rel = a.startsWith('/') ? relative(root, a) : '..';
    return rel === '' ? '/' : rel.startsWith('..') ? a : `/${rel}`;
  };
  return spawnInherit(chrootCommand(root, undefined, inside(program), args.map(inside)));
}

function spawnInherit(command: Command): Promise<number> {
  const c = withPdeathsig(command);
  return new Promise((done) => {
    const p = spawn(c.file, c.args, { stdio: 'inherit', ...(c.env ? { env: c.env } : {}) });
    p.once('error', (e) => {
      console.error(e.message);
      done(127);
    });
    p.once('exit', (code, signal) => done(code ?? (signal ? 1 : 0)));
  });
}

async function main(): Promise<number> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: {
      mgrs: { type: 'string' },
      name: { type: 'string' },
      release: { type: 'string' },
      conf: { type: 'string' },
      quiet: { type: 'boolean', short: 'q' },
    },
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
  if (command === 'run') return runProgram(release, values.conf, positionals.slice(1));
  if (command === 'exec') return execProgram(release, positionals.slice(1));
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
      // The release's own CLI against this cluster (Reef's lives in the chroot).
      cli: `npx tsx scripts/ceph/cli.ts run --release ${cluster.release} --conf ${cluster.conf} -- ceph -s`,
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
