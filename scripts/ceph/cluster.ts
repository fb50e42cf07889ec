// Brings up a real, throwaway single-host Ceph (1 mon, N mgrs with the dashboard, 1 memstore OSD)
// on loopback in a fresh temp dir, for integration tests and the demo; stop() removes every trace.
//
//   startCluster({ release: 'pacific' })  Debian 12's own packages, run on this host (the default)
//   startCluster({ release: 'reef' })     Ceph 18.2.7 from Debian 13, run in the cached chroot of
//                                         reef-root.ts (built on first use; CI builds it up front
//                                         with `npx tsx scripts/ceph/cli.ts ensure-reef`)
//
// Both return the same CephCluster. Its `conf` and `dir` are valid paths on this host and, for Reef,
// the same paths inside the chroot (bound there per process, runner.ts). To run Ceph programs
// against a cluster use its own release's binaries: `cluster.cli('rbd', ['ls', 'pool'])` or
// `cluster.ceph([...])`; `cluster.cliCommand(...)` gives the command line to spawn yourself. The
// host's `ceph` is Pacific's and only a guest of a Reef cluster. A Reef cluster needs root.
// `cephInstalled('reef')` says whether the chroot is built (skip instead of building, if a test
// prefers); reefDashboardDir() is where Reef's dashboard sources (controllers/*.py, frontend/dist)
// are, `cluster.dashboardSourceDir` those of the running release.

import { randomBytes } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clusterProcesses, forgetDir, trackDir } from './daemons.ts';
import { cephInstalled, reefHostReady } from './installed.ts';
import { bootstrap } from './recipe.ts';
import { ensureReefRoot, reefDashboardDir } from './reef-root.ts';
import { type CephRelease, type Command, chrootRunner, hostRunner } from './runner.ts';
import { removeStaleDirs, STALE_PREFIX } from './stale.ts';
import { freePorts, probeStatus, waitFor } from './support.ts';

export { cephInstalled } from './installed.ts';
export { ensureReefRoot, reefDashboardDir, reefRootDir } from './reef-root.ts';
export type { CephRelease, Command } from './runner.ts';

export interface StartOptions {
  /** Which Ceph runs the cluster (default 'pacific'). */
  release?: CephRelease;
  /** Label used in the temp dir name and log lines. */
  name?: string;
  /** Number of mgr daemons (default 1; 2 for fail-over tests). */
  mgrs?: number;
  /** Parent of the temp dir (default os.tmpdir()). */
  baseDir?: string;
  log?: (line: string) => void;
  /** Password of the dashboard administrator (default: random). */
  adminPassword?: string;
}

export interface CephCluster {
  readonly name: string;
  readonly release: CephRelease;
  readonly dir: string;
  /** Path of ceph.conf (the same path inside the Reef chroot). */
  readonly conf: string;
  /** One http://127.0.0.1:<port> per mgr, in mgr order (x, y, z, ...). */
  readonly dashboardUrls: string[];
  readonly adminUser: string;
  readonly adminPassword: string;
  /** The dashboard module the mgrs run (its controllers/*.py, frontend/dist, ...). */
  readonly dashboardSourceDir: string;
  /** URL of the mgr currently serving the dashboard (waits through a fail-over). */
  activeDashboardUrl(): Promise<string>;
  /** Runs the ceph CLI of this cluster's release against it and returns stdout. */
  ceph(args: string[], opts?: { input?: string }): Promise<string>;
  /** Runs a Ceph program of this cluster's release (`rbd`, `rados`, `ceph`, ...) with `-c <conf>` first; returns stdout. */
  cli(program: string, args: string[], opts?: { input?: string; timeoutMs?: number }): Promise<string>;
  /** The command line cli() would run, to spawn it yourself. */
  cliCommand(program: string, args: string[]): Command;
  /** Creates a dashboard user via the CLI (no pwdUpdateRequired, unlike POST /api/user). */
  createDashboardUser(user: string, password: string, roles: string[]): Promise<void>;
  /** `ceph mgr fail <active>`. */
  failActiveMgr(): Promise<void>;
  /** SIGKILLs one mgr daemon (id as in mgrIds: x, y, ...). */
  killMgr(id: string): Promise<void>;
  /** Kills every daemon it started and removes the dir; idempotent. */
  stop(): Promise<void>;
}

const MGR_IDS = ['x', 'y', 'z', 'w'];

export async function startCluster(opts: StartOptions = {}): Promise<CephCluster> {
  const name = opts.name ?? 'ceph';
  const release = opts.release ?? 'pacific';
  const mgrCount = opts.mgrs ?? 1;
  if (!Number.isInteger(mgrCount) || mgrCount < 1 || mgrCount > MGR_IDS.length) throw new Error(`mgrs must be 1..${MGR_IDS.length}`);
  const log = (line: string) => opts.log?.(`[ceph:${name}] ${line}`);
  const t0 = Date.now();
  if (release === 'reef') {
    const host = reefHostReady();
    if (!host.ok) throw new Error(host.reason);
  }
  // Reef: builds the chroot on first use (minutes), and kills what a crashed run left running in it.
  const chroot = release === 'reef' ? await ensureReefRoot({ log }) : undefined;
  const installed = cephInstalled(release);
  if (!installed.ok) throw new Error(installed.reason);

  const baseDir = opts.baseDir ?? tmpdir();
  await removeStaleDirs(baseDir, log, chroot);
  const dir = await mkdtemp(join(baseDir, `${STALE_PREFIX}${name.replace(/[^\w.-]/g, '_')}-`));
  // First thing: a dir with a dead owner is what removeStaleDirs() removes after a crash.
  await writeFile(join(dir, 'owner.pid'), String(process.pid));
  trackDir(dir, chroot);
  const conf = join(dir, 'ceph.conf');
  const runner = chroot ? chrootRunner(chroot, dir) : hostRunner();
  const mgrIds = MGR_IDS.slice(0, mgrCount);
  const [monPort, ...dashPorts] = await freePorts(1 + mgrCount);
  if (monPort === undefined) throw new Error('no port');
  const dashboardUrls = dashPorts.map((p) => `http://127.0.0.1:${p}`);
  const adminUser = 'admin';
  const adminPassword = opts.adminPassword ?? `Cg-${randomBytes(12).toString('base64url')}1!`;
  const procs = clusterProcesses({ name, dir, conf, runner, log });
  log(`${release}, dir ${dir}, mon port ${monPort}, dashboard ports ${dashPorts.join(',')}`);

  // --connect-timeout: without a mon the CLI otherwise hangs for 300 s.
  const ceph = (args: string[], o: { input?: string; logFor?: string } = {}) =>
    procs.run('ceph', ['-c', conf, '--connect-timeout', '15', ...args], { ...o, logFor: o.logFor ?? 'mon.a' });

  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      await procs.killAll();
      forgetDir(dir, chroot);
      log(`stopped, removed ${dir}`);
    })();
    return stopped;
  };

  try {
    await bootstrap({ name, release, dir, conf, monPort, dashPorts, dashboardUrls, mgrIds, adminUser, adminPassword, procs, ceph, log, t0 });
  } catch (e) {
    await stop();
    throw e;
  }

  const activeMgrName = async () => (JSON.parse(await ceph(['mgr', 'dump', '-f', 'json'])) as { active_name: string }).active_name;
  const withConf = (args: string[]) => ['-c', conf, ...args];

  return {
    name,
    release,
    dir,
    conf,
    dashboardUrls,
    adminUser,
    adminPassword,
    dashboardSourceDir: chroot ? reefDashboardDir(chroot) : '/usr/share/ceph/mgr/dashboard',
    async activeDashboardUrl() {
      // Probing is the truth: only the active mgr's dashboard answers 401; standbys redirect (303)
      // or say "no active" (200). `ceph mgr services` can lag behind a fail-over.
      return waitFor(
        'an active dashboard',
        60_000,
        async () => {
          const statuses = await Promise.all(dashboardUrls.map(probeStatus));
          return dashboardUrls[statuses.indexOf(401)];
        },
        async () => `ceph mgr services: ${await ceph(['mgr', 'services']).catch((e: Error) => e.message)}`,
      );
    },
    ceph: (args, o) => ceph(args, o?.input === undefined ? {} : { input: o.input }),
    cli: (program, args, o) =>
      procs.run(program, withConf(args), {
        ...(o?.input === undefined ? {} : { input: o.input }),
        ...(o?.timeoutMs === undefined ? {} : { timeoutMs: o.timeoutMs }),
      }),
    cliCommand: (program, args) => runner.command(program, withConf(args)),
    async createDashboardUser(user, password, roles) {
      await ceph(['dashboard', 'ac-user-create', user, '-i', '-', ...roles, '--force-password'], { input: password });
    },
    async failActiveMgr() {
      const active = await activeMgrName();
      log(`failing mgr.${active}`);
      await ceph(['mgr', 'fail', active]);
    },
    async killMgr(id) {
      if (!(await procs.kill(`mgr.${id}`))) throw new Error(`cluster ${name}: no mgr.${id} (have ${mgrIds.join(', ')})`);
      log(`killed mgr.${id}`);
    },
    stop,
  };
}
