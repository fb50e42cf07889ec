// The processes of one throwaway cluster: runs its Ceph commands (through the release's Runner),
// spawns and kills its daemons, and makes sure none outlives this process (parent-death signal,
// 'exit' hook). Knows nothing of the recipe; cluster.ts drives it.

import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { closeSync, openSync, rmdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { type Runner, withPdeathsig } from './runner.ts';
import { sleep, tail } from './support.ts';

/** Daemons and dirs of every cluster of this process not yet stopped, for the 'exit' hook. */
const live = new Set<ChildProcess>();
const liveDirs = new Map<string, string | undefined>(); // dir -> chroot it was bound into
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Last resort when the parent exits without stop(): 'exit' handlers must be synchronous,
  // so SIGKILL is sent without waiting. The parent-death signal (runner.ts) covers a SIGKILLed parent.
  process.on('exit', () => {
    for (const p of live) {
      try {
        p.kill('SIGKILL');
      } catch {
        /* already gone */
      }
    }
    for (const [d, chroot] of liveDirs) forgetDir(d, chroot);
  });
}

export function trackDir(dir: string, chroot: string | undefined): void {
  installExitHook();
  liveDirs.set(dir, chroot);
}

/** Removes the cluster dir and, for a chroot, the mount point made for it outside /tmp (if any). */
export function forgetDir(dir: string, chroot: string | undefined): void {
  rmSync(dir, { recursive: true, force: true });
  if (chroot) {
    try {
      rmdirSync(join(chroot, dir)); // empty; rmdir, never rm -r, inside the chroot
    } catch {
      /* under /tmp it lived in the daemons' own tmpfs */
    }
  }
  liveDirs.delete(dir);
}

export type DaemonType = 'mon' | 'mgr' | 'osd';

export interface ClusterProcesses {
  /** Runs a Ceph program; on failure throws with the command line, its stderr and a daemon log tail. */
  run(program: string, args: string[], o?: { input?: string; logFor?: string; timeoutMs?: number }): Promise<string>;
  spawnDaemon(type: DaemonType, id: string): Promise<void>;
  /** Throws, with the daemon's log, when one of ours has died (start-up waits fail at once). */
  assertAlive(): Promise<void>;
  /** SIGKILLs one daemon ("mgr.x") and waits for its exit; false when there is no such daemon. */
  kill(daemon: string): Promise<boolean>;
  /** SIGKILLs all and waits until the kernel has reaped them (their ports and sockets are free). */
  killAll(): Promise<void>;
}

export function clusterProcesses(ctx: { name: string; dir: string; conf: string; runner: Runner; log: (line: string) => void }): ClusterProcesses {
  const { name, dir, conf, runner, log } = ctx;
  const daemons = new Map<string, ChildProcess>(); // "mon.a", "mgr.x", "osd.0"
  let stopping = false;
  const logOf = (daemon: string) => join(dir, 'log', `ceph-${daemon}.log`);
  const exited = (p: ChildProcess) => p.exitCode !== null || p.signalCode !== null;

  const run: ClusterProcesses['run'] = async (program, args, o = {}) => {
    const line = `${program} ${args.join(' ')}`;
    const c = withPdeathsig(runner.command(program, args));
    try {
      return await new Promise<string>((resolve, reject) => {
        const child = execFile(
          c.file,
          c.args,
          { timeout: o.timeoutMs ?? 60_000, maxBuffer: 64 << 20, ...(c.env ? { env: c.env } : {}) },
          (err, stdout, stderr) => (err ? reject(Object.assign(err, { stderr })) : resolve(stdout)),
        );
        child.stdin?.end(o.input);
      });
    } catch (e) {
      const err = e as { stderr?: string; message?: string };
      const daemonLog = o.logFor ? `\n--- tail of ${logOf(o.logFor)} ---\n${await tail(logOf(o.logFor))}` : '';
      throw new Error(`cluster ${name}: \`${line}\` failed: ${(err.stderr || err.message || '').trim()}${daemonLog}`, { cause: e });
    }
  };

  const spawnDaemon: ClusterProcesses['spawnDaemon'] = async (type, id) => {
    const daemon = `${type}.${id}`;
    const out = openSync(join(dir, 'log', `${daemon}.stdout`), 'a');
    // -f: stay in the foreground so we own the pid. The parent-death signal survives the execs of
    // runner.ts's chroot entry down to the daemon.
    const c = withPdeathsig(runner.command(`ceph-${type}`, ['-c', conf, '-i', id, '-f']));
    const p = spawn(c.file, c.args, { stdio: ['ignore', out, out], ...(c.env ? { env: c.env } : {}) });
    closeSync(out);
    daemons.set(daemon, p);
    live.add(p);
    p.once('exit', (code, signal) => {
      live.delete(p);
      if (!stopping) log(`${daemon} (pid ${p.pid}) exited: ${signal ?? code}`);
    });
    log(`started ${daemon} pid ${p.pid}`);
    await sleep(50);
    if (exited(p))
      throw new Error(
        `cluster ${name}: ${daemon} exited at once (${p.signalCode ?? p.exitCode})\n${await tail(join(dir, 'log', `${daemon}.stdout`))}\n${await tail(logOf(daemon))}`,
      );
  };

  const killOne = async (p: ChildProcess) => {
    if (exited(p)) return;
    const gone = new Promise<void>((r) => p.once('exit', () => r()));
    p.kill('SIGKILL');
    await gone;
  };

  return {
    run,
    spawnDaemon,
    async assertAlive() {
      for (const [daemon, p] of daemons) {
        if (!exited(p)) continue;
        throw new Error(
          `cluster ${name}: ${daemon} died (${p.signalCode ?? `exit ${p.exitCode}`})\n--- tail of ${logOf(daemon)} ---\n${await tail(logOf(daemon))}`,
        );
      }
    },
    async kill(daemon) {
      const p = daemons.get(daemon);
      if (!p) return false;
      await killOne(p);
      return true;
    },
    async killAll() {
      stopping = true;
      // Throwaway state: SIGKILL is safe and makes teardown instant. Node's 'exit' event comes
      // after waitpid(), so the ports and admin sockets are free when this resolves.
      await Promise.all([...daemons.values()].map(killOne));
    },
  };
}
