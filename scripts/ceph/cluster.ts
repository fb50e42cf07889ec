// Brings up a real, throwaway single-host Ceph (1 mon, N mgrs with the dashboard, 1 memstore OSD)
// on loopback in a fresh temp dir, for integration tests and the demo; stop() removes every trace.
// The recipe follows ../shared/guides/CEPH.md, "A real single-host cluster for tests".

import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { accessSync, closeSync, constants, existsSync, openSync, rmSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { freePorts, probeStatus, removeStaleDirs, sleep, STALE_PREFIX, tail, waitFor } from './support.ts';

const execFileP = promisify(execFile);

export interface StartOptions {
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
  readonly dir: string;
  /** Path of ceph.conf. */
  readonly conf: string;
  /** One http://127.0.0.1:<port> per mgr, in mgr order (x, y, z, ...). */
  readonly dashboardUrls: string[];
  readonly adminUser: string;
  readonly adminPassword: string;
  /** URL of the mgr currently serving the dashboard (waits through a fail-over). */
  activeDashboardUrl(): Promise<string>;
  /** Runs the ceph CLI against this cluster and returns stdout. */
  ceph(args: string[], opts?: { input?: string }): Promise<string>;
  /** Creates a dashboard user via the CLI (no pwdUpdateRequired, unlike POST /api/user). */
  createDashboardUser(user: string, password: string, roles: string[]): Promise<void>;
  /** `ceph mgr fail <active>`. */
  failActiveMgr(): Promise<void>;
  /** SIGKILLs one mgr daemon (id as in mgrIds: x, y, ...). */
  killMgr(id: string): Promise<void>;
  /** Kills every daemon it started and removes the dir; idempotent. */
  stop(): Promise<void>;
}

const BINARIES: Array<[cmd: string, pkg: string]> = [
  ['ceph', 'ceph-common'],
  ['ceph-authtool', 'ceph-common'],
  ['monmaptool', 'ceph-common'],
  ['ceph-mon', 'ceph-mon'],
  ['ceph-mgr', 'ceph-mgr'],
  ['ceph-osd', 'ceph-osd'],
];
const DASHBOARD_MODULE = '/usr/share/ceph/mgr/dashboard/module.py';
const INSTALL_HINT = 'install with `sudo scripts/ceph/install.sh` (apt-get install -y ceph-mon ceph-mgr ceph-mgr-dashboard ceph-osd ceph-common)';

function onPath(cmd: string): boolean {
  return (process.env.PATH ?? '').split(delimiter).some((d) => {
    try {
      accessSync(join(d, cmd), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

export function cephInstalled(): { ok: true } | { ok: false; reason: string } {
  const missing = BINARIES.filter(([cmd]) => !onPath(cmd)).map(([cmd, pkg]) => `command \`${cmd}\` (package ${pkg})`);
  if (!existsSync(DASHBOARD_MODULE)) missing.push(`${DASHBOARD_MODULE} (package ceph-mgr-dashboard)`);
  if (missing.length > 0) return { ok: false, reason: `missing ${missing.join(', ')}; ${INSTALL_HINT}` };
  return { ok: true };
}

function confText(dir: string, fsid: string, monPort: number): string {
  // Everything lives under `dir` so several clusters run side by side and stop() leaves nothing.
  // Each mgr/osd has its own keyring path, else they fail with handle_auth_bad_method (CEPH.md).
  return `[global]
fsid = ${fsid}
mon host = v2:127.0.0.1:${monPort}
public addr = 127.0.0.1
auth cluster required = cephx
auth service required = cephx
auth client required = cephx
auth allow insecure global id reclaim = false
keyring = ${dir}/keyring
run dir = ${dir}/run
crash dir = ${dir}/crash
log file = ${dir}/log/$cluster-$name.log
mon cluster log file = ${dir}/log/$cluster.log
osd objectstore = memstore
memstore device bytes = 1073741824
osd pool default size = 1
osd pool default min size = 1
osd crush chooseleaf type = 0
mon allow pool delete = true
mon warn on pool no redundancy = false
# A test cluster must not go HEALTH_WARN because the shared /tmp disk is under 30 % free.
mon data avail warn = 1
# PG states reach \`ceph status\` through OSD->mgr reports and the mgr->mon digest, 5 s apart by
# default; 1 s makes "all PGs active+clean" (start-up, pool create) visible seconds sooner.
mgr stats period = 1
mon mgr digest period = 1
# killMgr(): the mon declares a silent mgr dead after this many seconds (default 30) and promotes a
# standby; beacons go every 2 s, so 10 s still tolerates a busy machine.
mon mgr beacon grace = 10
mgr initial modules = dashboard

[mon]
mon data = ${dir}/mon/$id
[mgr]
mgr data = ${dir}/mgr/$id
keyring = ${dir}/mgr/$id/keyring
[osd]
osd data = ${dir}/osd/$id
keyring = ${dir}/osd/$id/keyring
`;
}

/**
 * Upper bound of each start-up wait. ~10 s is typical; with several clusters and other work on a
 * 2-core machine the mgr's Python start alone took 40 s, and a dead daemon fails a wait at once.
 */
const STARTUP_TIMEOUT_MS = 180_000;
const MGR_IDS = ['x', 'y', 'z', 'w'];
/** Daemons and dirs of every cluster of this process not yet stopped, for the 'exit' hook. */
const live = new Set<ChildProcess>();
const liveDirs = new Set<string>();
let exitHookInstalled = false;
/** util-linux's setpriv sets PR_SET_PDEATHSIG, which Node cannot do for its children. */
const HAVE_SETPRIV = onPath('setpriv');

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Last resort when the parent exits without stop(): 'exit' handlers must be synchronous,
  // so SIGKILL is sent without waiting. setpriv --pdeathsig covers a SIGKILLed parent.
  process.on('exit', () => {
    for (const p of live) {
      try {
        p.kill('SIGKILL');
      } catch {
        /* already gone */
      }
    }
    for (const d of liveDirs) rmSync(d, { recursive: true, force: true });
  });
}

export async function startCluster(opts: StartOptions = {}): Promise<CephCluster> {
  const name = opts.name ?? 'ceph';
  const mgrCount = opts.mgrs ?? 1;
  if (!Number.isInteger(mgrCount) || mgrCount < 1 || mgrCount > MGR_IDS.length) throw new Error(`mgrs must be 1..${MGR_IDS.length}`);
  const log = (line: string) => opts.log?.(`[ceph:${name}] ${line}`);
  const installed = cephInstalled();
  if (!installed.ok) throw new Error(installed.reason);
  installExitHook();

  const t0 = Date.now();
  await removeStaleDirs(opts.baseDir ?? tmpdir(), log);
  const dir = await mkdtemp(join(opts.baseDir ?? tmpdir(), `${STALE_PREFIX}${name.replace(/[^\w.-]/g, '_')}-`));
  liveDirs.add(dir);
  const conf = join(dir, 'ceph.conf');
  const mgrIds = MGR_IDS.slice(0, mgrCount);
  const [monPort, ...dashPorts] = await freePorts(1 + mgrCount);
  if (monPort === undefined) throw new Error('no port');
  const dashboardUrls = dashPorts.map((p) => `http://127.0.0.1:${p}`);
  const adminUser = 'admin';
  const adminPassword = opts.adminPassword ?? `Cg-${randomBytes(12).toString('base64url')}1!`;
  const daemons = new Map<string, ChildProcess>(); // "mon.a", "mgr.x", "osd.0"
  let stopping = false;
  let stopped: Promise<void> | undefined;
  const logOf = (daemon: string) => join(dir, 'log', `ceph-${daemon}.log`);
  log(`dir ${dir}, mon port ${monPort}, dashboard ports ${dashPorts.join(',')}`);

  /** Runs a command; on failure throws with the command line, its stderr and a daemon log tail. */
  const run = async (cmd: string, args: string[], o: { input?: string; logFor?: string; timeoutMs?: number } = {}): Promise<string> => {
    const line = `${cmd} ${args.join(' ')}`;
    try {
      const child = execFileP(cmd, args, { timeout: o.timeoutMs ?? 60_000, maxBuffer: 64 << 20 });
      if (o.input !== undefined) {
        child.child.stdin?.end(o.input);
      } else {
        child.child.stdin?.end();
      }
      return (await child).stdout;
    } catch (e) {
      const err = e as { stderr?: string; message?: string };
      const daemonLog = o.logFor ? `\n--- tail of ${logOf(o.logFor)} ---\n${await tail(logOf(o.logFor))}` : '';
      throw new Error(`cluster ${name}: \`${line}\` failed: ${(err.stderr || err.message || '').trim()}${daemonLog}`, { cause: e });
    }
  };
  // --connect-timeout: without a mon the CLI otherwise hangs for 300 s.
  const ceph = (args: string[], o: { input?: string; logFor?: string } = {}) =>
    run('ceph', ['-c', conf, '--connect-timeout', '15', ...args], { ...o, logFor: o.logFor ?? 'mon.a' });

  const spawnDaemon = async (type: 'mon' | 'mgr' | 'osd', id: string) => {
    const daemon = `${type}.${id}`;
    const out = openSync(join(dir, 'log', `${daemon}.stdout`), 'a');
    // -f: stay in the foreground so we own the pid. setpriv --pdeathsig: the kernel kills the
    // daemon when this process dies, even by SIGKILL (an 'exit' handler never runs then).
    const argv = [`ceph-${type}`, '-c', conf, '-i', id, '-f'];
    const [cmd, ...args] = HAVE_SETPRIV ? ['setpriv', '--pdeathsig', 'KILL', '--', ...argv] : argv;
    const p = spawn(cmd as string, args, { stdio: ['ignore', out, out] });
    closeSync(out);
    daemons.set(daemon, p);
    live.add(p);
    p.once('exit', (code, signal) => {
      live.delete(p);
      if (!stopping) log(`${daemon} (pid ${p.pid}) exited: ${signal ?? code}`);
    });
    log(`started ${daemon} pid ${p.pid}`);
    await sleep(50);
    if (p.exitCode !== null || p.signalCode !== null) throw new Error(`cluster ${name}: ${daemon} exited at once (${p.signalCode ?? p.exitCode})\n${await tail(logOf(daemon))}`);
  };

  /** Start-up waits fail at once, with the daemon's log, when one of ours has died. */
  const daemonsAlive = async () => {
    for (const [daemon, p] of daemons) {
      if (p.exitCode === null && p.signalCode === null) continue;
      throw new Error(`cluster ${name}: ${daemon} died (${p.signalCode ?? `exit ${p.exitCode}`})\n--- tail of ${logOf(daemon)} ---\n${await tail(logOf(daemon))}`);
    }
  };
  const waitUp = <T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>, onTimeout: () => Promise<string>) =>
    waitFor(what, timeoutMs, probe, onTimeout, daemonsAlive);

  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      stopping = true;
      const exits = [...daemons.values()].map((p) =>
        p.exitCode !== null || p.signalCode !== null ? Promise.resolve() : new Promise<void>((r) => p.once('exit', () => r())),
      );
      // Throwaway state: SIGKILL is safe and makes teardown instant.
      for (const p of daemons.values()) p.kill('SIGKILL');
      await Promise.all(exits);
      await rm(dir, { recursive: true, force: true });
      liveDirs.delete(dir);
      log(`stopped, removed ${dir}`);
    })();
    return stopped;
  };

  try {
    await Promise.all(['log', 'run', 'crash', 'mon/a', 'osd/0', ...mgrIds.map((m) => `mgr/${m}`)].map((d) => mkdir(join(dir, d), { recursive: true })));
    const fsid = randomUUID();
    await writeFile(conf, confText(dir, fsid, monPort));
    await writeFile(join(dir, 'owner.pid'), String(process.pid));

    log('creating keys and monmap');
    const monKeyring = join(dir, 'mon.keyring');
    const adminKeyring = join(dir, 'keyring');
    // A fresh cluster's first `osd new` gets id 0. Every key is made up front and the mgr keys are
    // imported into the mon's initial auth db, which saves one ~0.5 s `ceph auth` call per daemon.
    const osdId = '0';
    const osdKeyring = join(dir, 'osd', osdId, 'keyring');
    const authtool = (keyring: string, entity: string, caps: Record<string, string>) =>
      run('ceph-authtool', ['--create-keyring', keyring, '--gen-key', '-n', entity, ...Object.entries(caps).flatMap(([k, v]) => ['--cap', k, v])]);
    await Promise.all([
      authtool(monKeyring, 'mon.', { mon: 'allow *' }),
      authtool(adminKeyring, 'client.admin', { mon: 'allow *', osd: 'allow *', mgr: 'allow *', mds: 'allow *' }),
      ...mgrIds.map((id) => authtool(join(dir, 'mgr', id, 'keyring'), `mgr.${id}`, { mon: 'allow profile mgr', osd: 'allow *', mds: 'allow *' })),
      authtool(osdKeyring, `osd.${osdId}`, {}),
      run('monmaptool', ['--create', '--addv', 'a', `[v2:127.0.0.1:${monPort}]`, '--fsid', fsid, join(dir, 'monmap')]),
    ]);
    for (const k of [adminKeyring, ...mgrIds.map((id) => join(dir, 'mgr', id, 'keyring'))]) {
      await run('ceph-authtool', [monKeyring, '--import-keyring', k]);
    }
    await run('ceph-mon', ['-c', conf, '--mkfs', '-i', 'a', '--monmap', join(dir, 'monmap'), '--keyring', monKeyring], { logFor: 'mon.a' });
    await spawnDaemon('mon', 'a');
    await waitUp('mon quorum', 60_000, async () => ((await ceph(['mon', 'stat'])).includes('quorum') ? true : undefined), () => tail(logOf('mon.a')));
    log(`mon up after ${Date.now() - t0} ms`);

    const startMgrs = async () => {
      // --force: the dashboard module's options are unknown until a mgr has reported them (CEPH.md).
      await Promise.all([
        ceph(['config', 'set', 'mgr', 'mgr/dashboard/ssl', 'false', '--force']),
        ceph(['config', 'set', 'mgr', 'mgr/dashboard/server_addr', '127.0.0.1', '--force']),
        ...mgrIds.map((id, i) => ceph(['config', 'set', 'mgr', `mgr/dashboard/${id}/server_port`, String(dashPorts[i]), '--force'])),
      ]);
      for (const id of mgrIds) await spawnDaemon('mgr', id);
    };
    const startOsd = async () => {
      const uuid = randomUUID();
      // `osd new` with cephx_secret also creates osd.0's auth entity with the osd profile caps.
      const key = (await readFile(osdKeyring, 'utf8')).match(/key = (\S+)/)?.[1];
      if (!key) throw new Error(`cluster ${name}: no key in ${osdKeyring}`);
      const got = (await ceph(['osd', 'new', uuid, osdId, '-i', '-'], { input: JSON.stringify({ cephx_secret: key }) })).trim();
      if (got !== osdId) throw new Error(`cluster ${name}: expected osd id ${osdId}, got ${got}`);
      await run('ceph-osd', ['-c', conf, '-i', osdId, '--mkfs', '--osd-uuid', uuid], { logFor: `osd.${osdId}` });
      await spawnDaemon('osd', osdId);
    };
    await Promise.all([startMgrs(), startOsd()]);

    const mgrLogs = async () => (await Promise.all(mgrIds.map(async (id) => `--- tail of ${logOf(`mgr.${id}`)} ---\n${await tail(logOf(`mgr.${id}`))}`))).join('\n');
    const active = await waitUp('a dashboard answering 401 on /api/health/minimal', STARTUP_TIMEOUT_MS, async () => {
      const statuses = await Promise.all(dashboardUrls.map(probeStatus));
      return dashboardUrls[statuses.indexOf(401)];
    }, mgrLogs);
    log(`dashboard up at ${active} after ${Date.now() - t0} ms`);

    // The dashboard may serve HTTP before the mon has the active mgr's command table
    // ("no valid command found"), so the first `ceph dashboard ...` is retried.
    await waitUp('`ceph dashboard` commands', 60_000, async () => {
      await ceph(['dashboard', 'ac-user-create', adminUser, '-i', '-', 'administrator', '--force-password'], { input: adminPassword });
      return true;
    }, mgrLogs);
    log(`dashboard user ${adminUser} created`);

    await waitUp(`osd.${osdId} up and in, all PGs active+clean`, STARTUP_TIMEOUT_MS, async () => {
      const s = JSON.parse(await ceph(['status', '-f', 'json'])) as {
        osdmap: { num_up_osds: number; num_in_osds: number };
        pgmap: { num_pgs: number; pgs_by_state?: Array<{ state_name: string; count: number }> };
      };
      if (s.osdmap.num_up_osds < 1 || s.osdmap.num_in_osds < 1) return undefined;
      const clean = (s.pgmap.pgs_by_state ?? []).filter((x) => x.state_name === 'active+clean').reduce((a, x) => a + x.count, 0);
      return clean === s.pgmap.num_pgs ? true : undefined;
    }, () => tail(logOf(`osd.${osdId}`)));
    // Standbys only redirect once they are registered; a fail-over test needs them ready.
    if (mgrCount > 1) {
      await waitUp(`${mgrCount - 1} standby mgr(s)`, STARTUP_TIMEOUT_MS, async () => {
        const d = JSON.parse(await ceph(['mgr', 'dump', '-f', 'json'])) as { standbys: unknown[] };
        return d.standbys.length >= mgrCount - 1 ? true : undefined;
      }, mgrLogs);
    }
    log(`cluster ready after ${Date.now() - t0} ms`);
  } catch (e) {
    await stop();
    throw e;
  }

  const activeMgrName = async () => (JSON.parse(await ceph(['mgr', 'dump', '-f', 'json'])) as { active_name: string }).active_name;

  return {
    name,
    dir,
    conf,
    dashboardUrls,
    adminUser,
    adminPassword,
    async activeDashboardUrl() {
      // Probing is the truth: only the active mgr's dashboard answers 401; standbys redirect (303)
      // or say "no active" (200). `ceph mgr services` can lag behind a fail-over.
      return waitFor('an active dashboard', 60_000, async () => {
        const statuses = await Promise.all(dashboardUrls.map(probeStatus));
        return dashboardUrls[statuses.indexOf(401)];
      }, async () => `ceph mgr services: ${await ceph(['mgr', 'services']).catch((e: Error) => e.message)}`);
    },
    ceph: (args, o) => ceph(args, o?.input === undefined ? {} : { input: o.input }),
    async createDashboardUser(user, password, roles) {
      await ceph(['dashboard', 'ac-user-create', user, '-i', '-', ...roles, '--force-password'], { input: password });
    },
    async failActiveMgr() {
      const active = await activeMgrName();
      log(`failing mgr.${active}`);
      await ceph(['mgr', 'fail', active]);
    },
    async killMgr(id) {
      const p = daemons.get(`mgr.${id}`);
      if (!p) throw new Error(`cluster ${name}: no mgr.${id} (have ${mgrIds.join(', ')})`);
      if (p.exitCode !== null || p.signalCode !== null) return;
      const gone = new Promise<void>((r) => p.once('exit', () => r()));
      p.kill('SIGKILL');
      await gone;
      log(`killed mgr.${id}`);
    },
    stop,
  };
}
