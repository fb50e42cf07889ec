// Child-process plumbing of the bench: every measured server runs in its own process (never sharing an event
// loop with the load generator), says it is ready over IPC, and is measured by its RSS from /proc.

import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { type AddressInfo, connect, createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const BENCH_DIR = dirname(fileURLToPath(import.meta.url));

/** In a child: tells the parent it is ready (and anything it needs, e.g. its port). */
export function announce(info: Record<string, unknown>): void {
  if (process.send) process.send({ ready: true, ...info });
  else console.log(JSON.stringify({ ready: true, ...info }));
}

export interface Child {
  readonly proc: ChildProcess;
  readonly pid: number;
  readonly info: Record<string, unknown>;
  /** Count descendants in its RSS (multi-process servers such as nginx). */
  readonly tree?: boolean;
  /** Asks the child something over IPC and waits for its `reply` message. */
  ask(msg: Record<string, unknown>, timeoutMs?: number): Promise<Record<string, unknown>>;
  stop(): Promise<void>;
}

/** Runs `bench/<script>` under tsx (node --import tsx, so the pid measured is the node process itself). */
export function startTsChild(script: string, args: readonly string[], opts: { nodeArgs?: readonly string[]; timeoutMs?: number } = {}): Promise<Child> {
  const proc = spawn(process.execPath, [...(opts.nodeArgs ?? []), '--import', 'tsx', join(BENCH_DIR, script), ...args], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    cwd: join(BENCH_DIR, '..'),
  });
  return adopt(proc, script, opts.timeoutMs ?? 60_000);
}

/** Runs a compiled `bench/<script>.js` from `dir` (see `--compiled`) with plain node, as production runs dist/. */
export function startCompiledChild(
  dir: string,
  script: string,
  args: readonly string[],
  opts: { nodeArgs?: readonly string[]; timeoutMs?: number } = {},
): Promise<Child> {
  const proc = spawn(process.execPath, [...(opts.nodeArgs ?? []), join(dir, 'bench', script.replace(/\.ts$/, '.js')), ...args], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    cwd: join(BENCH_DIR, '..'),
  });
  return adopt(proc, script, opts.timeoutMs ?? 60_000);
}

function adopt(proc: ChildProcess, what: string, timeoutMs: number): Promise<Child> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`${what} not ready within ${timeoutMs} ms`));
    }, timeoutMs);
    proc.once('exit', (code, sig) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited before it was ready (${sig ?? code})`));
    });
    proc.once('message', (m: Record<string, unknown>) => {
      clearTimeout(timer);
      proc.removeAllListeners('exit');
      resolve(childOf(proc, m));
    });
  });
}

function childOf(proc: ChildProcess, info: Record<string, unknown>): Child {
  return {
    proc,
    pid: proc.pid as number,
    info,
    ask: (msg, timeoutMs = 30_000) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no reply to ${JSON.stringify(msg)}`)), timeoutMs);
        proc.once('message', (m: Record<string, unknown>) => {
          clearTimeout(timer);
          resolve(m);
        });
        proc.send?.(msg);
      }),
    stop: () => stopProcess(proc),
  };
}

/** SIGTERM, then SIGKILL after 5 s. */
export function stopProcess(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
    proc.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    proc.kill('SIGTERM');
  });
}

/** Sums `read(pid)` over a process and, when `tree`, its descendants (nginx's workers, Apache's child); a process gone meanwhile counts 0. */
function sumOverTree(pid: number | string, tree: boolean, read: (pid: number | string) => number): number {
  let total = 0;
  const visit = (p: number | string) => {
    try {
      total += read(p);
      if (!tree) return;
      for (const c of readFileSync(`/proc/${p}/task/${p}/children`, 'utf8').trim().split(/\s+/)) if (c) visit(c);
    } catch {
      // gone meanwhile
    }
  };
  visit(pid);
  return total;
}

/**
 * Resident set size in MB of a process, with its descendants when `tree` (nginx: master + workers). Node
 * children are measured alone: under tsx each has an esbuild service child that is not part of the server.
 */
export function rssMb(pid: number, tree = false): number {
  const kb = sumOverTree(pid, tree, (p) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${p}/status`, 'utf8'))?.[1] ?? 0));
  return Math.round((kb / 1024) * 10) / 10;
}

/** CPU time (user + system, in clock ticks of 1/100 s) a process has used, with its descendants when `tree`: /proc/<pid>/stat fields 14 and 15. */
export function cpuTicks(pid: number | string, tree = false): number {
  return sumOverTree(pid, tree, (p) => {
    const f = (readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1] ?? '').split(' ');
    return Number(f[11]) + Number(f[12]);
  });
}

/** Runs a script to completion and parses the one JSON line it prints last. */
export function runJson<T>(script: string, args: readonly string[], nodeArgs: readonly string[] = []): Promise<T> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', join(BENCH_DIR, script), ...args], {
      stdio: ['ignore', 'pipe', 'inherit'],
      cwd: join(BENCH_DIR, '..'),
    });
    let out = '';
    proc.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
    proc.once('exit', (code) => {
      const last = out.trim().split('\n').pop() ?? '';
      try {
        if (code !== 0) throw new Error(`exit ${code}`);
        resolve(JSON.parse(last) as T);
      } catch (err) {
        reject(new Error(`${script} failed (${(err as Error).message}): ${out.slice(-500)}`));
      }
    });
  });
}

/** A loopback port free right now (for servers whose port must be known before they start). */
export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

const accepts = (port: number) =>
  new Promise<boolean>((resolve) => {
    const c = connect(port, '127.0.0.1');
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });

/**
 * Waits until a server that cannot announce itself over IPC (nginx, Apache) accepts on its loopback port;
 * throws if it exits first (`hint` says where its own log is) or is not up within 5 s.
 */
export async function waitForPort(port: number, proc: ChildProcess, what: string, hint: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (await accepts(port)) return;
    if (proc.exitCode !== null) throw new Error(`${what} exited (${proc.exitCode}); see ${hint}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  proc.kill('SIGKILL');
  throw new Error(`${what} not accepting on port ${port} within 5 s; see ${hint}`);
}
