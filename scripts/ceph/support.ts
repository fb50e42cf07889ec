// Small helpers of scripts/ceph/cluster.ts that know nothing about Ceph's recipe: free ports,
// polling with a deadline, log tails, dashboard probes, pid liveness, PATH look-ups.

import { accessSync, constants } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { type AddressInfo, createServer, type Server } from 'node:net';
import { delimiter, join } from 'node:path';

function tryListen(port: number): Promise<Server | undefined> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(undefined));
    s.listen(port, '127.0.0.1', () => resolve(s));
  });
}

/**
 * Free loopback ports, all held open together so one call never repeats a port. They are taken
 * at random below the kernel's ephemeral range (and outside Ceph's 6800-7300 msgr range): a port
 * from the ephemeral range could be grabbed by any outgoing connection in the seconds before the
 * mon or a mgr binds it. Falls back to port 0 when the ephemeral range leaves no room below it.
 */
export async function freePorts(n: number): Promise<number[]> {
  let low = 32768;
  try {
    low = Number((await readFile('/proc/sys/net/ipv4/ip_local_port_range', 'utf8')).trim().split(/\s+/)[0]) || low;
  } catch {
    /* not Linux: keep the IANA default */
  }
  const servers: Server[] = [];
  try {
    for (let attempt = 0; servers.length < n && attempt < 200; attempt++) {
      const port = low > 11_000 ? 10_000 + Math.floor(Math.random() * (low - 11_000)) : 0;
      if (port >= 6800 && port <= 7300) continue;
      const s = await tryListen(port);
      if (s) servers.push(s);
    }
    if (servers.length < n) throw new Error(`could not find ${n} free loopback ports`);
    return servers.map((s) => (s.address() as AddressInfo).port);
  } finally {
    await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function tail(file: string, lines = 30): Promise<string> {
  try {
    const text = await readFile(file, 'utf8');
    return text.trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return `(no log at ${file})`;
  }
}

/** Polls `probe` until it returns a value (not undefined) or the deadline passes. */
export async function waitFor<T>(
  what: string,
  timeoutMs: number,
  probe: () => Promise<T | undefined>,
  onTimeout: () => Promise<string>,
  guard: () => Promise<void> = async () => {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError = '';
  for (;;) {
    await guard(); // e.g. a daemon died: fail now with its log instead of at the deadline
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (e) {
      lastError = e instanceof Error ? e.message : String(e);
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? ` (last error: ${lastError})` : ''}\n${await onTimeout()}`);
    }
    await sleep(250);
  }
}

/** Status of GET <url>/api/health/minimal without following redirects; 0 when nothing answers. */
export async function probeStatus(url: string): Promise<number> {
  try {
    const res = await fetch(`${url}/api/health/minimal`, {
      redirect: 'manual',
      headers: { Accept: 'application/vnd.ceph.api.v1.0+json' },
      signal: AbortSignal.timeout(2000),
    });
    await res.body?.cancel();
    return res.status;
  } catch {
    return 0;
  }
}

/** Is a process with this pid running? (EPERM: it exists but is not ours.) */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Is `cmd` an executable in a PATH dir (or one of `extraDirs`)? */
export function onPath(cmd: string, extraDirs: string[] = []): boolean {
  return [...(process.env.PATH ?? '').split(delimiter), ...extraDirs].some((d) => {
    try {
      accessSync(join(d, cmd), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}
