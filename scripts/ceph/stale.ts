// Clean-up of what earlier runs left when their parent died without stop(): cluster dirs, daemons
// still running for them, and processes or mounts in the Reef chroot. Run before every start, so a
// crashed test runner never leaves the next one a leftover to trip over.

import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { readdir, readFile, readlink, rm, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { pidAlive, sleep } from './support.ts';

const execFileP = promisify(execFile);
export const STALE_PREFIX = 'cephgate-cluster-';

interface Proc {
  pid: number;
  cmdline: string;
  root: string;
}

async function processes(): Promise<Proc[]> {
  const out: Proc[] = [];
  for (const entry of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    const root = await readlink(`/proc/${entry}/root`).catch(() => '');
    out.push({ pid: Number(entry), cmdline, root });
  }
  return out;
}

/** The owner of a cluster dir is the process that started it; it writes owner.pid first thing. */
async function ownerAlive(dir: string): Promise<boolean> {
  const owner = Number(await readFile(join(dir, 'owner.pid'), 'utf8').catch(() => ''));
  return owner > 0 && pidAlive(owner);
}

async function killAndWait(pids: number[], log: (line: string) => void, why: string): Promise<void> {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
      log(`killed pid ${pid} (${why})`);
    } catch {
      /* gone already */
    }
  }
  // A killed daemon still holds its ports and files until the kernel has reaped it.
  for (let i = 0; i < 100 && pids.some((p) => pidAlive(p) && !zombie(p)); i++) await sleep(50);
}

function zombie(pid: number): boolean {
  try {
    return /^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return true;
  }
}

/**
 * Cluster dirs under `baseDir` whose owner is gone are removed, after their daemons if any are
 * still running (a parent without setpriv, or a daemon that survived its parent-death signal);
 * `chroot` is the Reef root, where a dir outside /tmp had an (empty) mount point made.
 * Dirs of live owners are never touched.
 */
export async function removeStaleDirs(baseDir: string, log: (line: string) => void, chroot?: string): Promise<void> {
  let entries: string[];
  try {
    entries = (await readdir(baseDir)).filter((e) => e.startsWith(STALE_PREFIX));
  } catch {
    return;
  }
  if (entries.length === 0) return;
  const procs = await processes();
  for (const e of entries) {
    const d = join(baseDir, e);
    if (await ownerAlive(d)) continue;
    // A dir without owner.pid may be one being created this instant by another process.
    if (!(await readFile(join(d, 'owner.pid'), 'utf8').catch(() => ''))) continue;
    await killAndWait(
      procs.filter((p) => p.cmdline.includes(`${d}/`)).map((p) => p.pid),
      log,
      `daemon of stale ${d}`,
    );
    await rm(d, { recursive: true, force: true });
    if (chroot) await rmdir(join(chroot, d)).catch(() => {});
    log(`removed stale ${d} (its owner is gone)`);
  }
}

/** Is this command line one of a live cluster's (daemons and CLIs all get `-c <dir>/ceph.conf`)? */
async function ofLiveCluster(cmdline: string): Promise<boolean> {
  const m = new RegExp(`(/[^\\0]*?${STALE_PREFIX}[^/\\0]+)/`).exec(cmdline);
  return m?.[1] !== undefined && (await ownerAlive(m[1]));
}

function unescapeMountPath(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8)));
}

/** Ceph's daemons by their command name (`ceph-mon -c ...`). */
const DAEMON = /^(?:\/usr\/bin\/)?ceph-(?:mon|mgr|osd)$/;

/**
 * Call with the chroot's build lock held. Kills what only a crashed or hand-run use of the chroot
 * leaves: Ceph daemons rooted in it that no live cluster owns, and build steps naming it (a
 * debootstrap, a chroot entry not yet exec'd) - never other programs in it (another team may run
 * Reef's Python there, reef-root.ts). Then lazily unmounts what is mounted under it in this
 * namespace, unless a process of this namespace still works in the chroot: nothing of ours mounts
 * there (runner.ts), but a killed debootstrap of an older version or the docs/ceph-facts.md hand recipe
 * (proc and /dev) does, and `rm -rf` through a bound /dev would wipe the host's device nodes.
 */
export async function sweepChroot(chroot: string, log: (line: string) => void): Promise<void> {
  const under = (path: string) => path === chroot || path.startsWith(`${chroot}/`);
  const ourNs = await readlink('/proc/self/ns/mnt').catch(() => '');
  const strays: number[] = [];
  let usersHere = 0;
  for (const p of await processes()) {
    const argv = p.cmdline.split('\0');
    const daemon = under(p.root) && DAEMON.test(argv[0] ?? '');
    const buildStep = argv.includes(chroot) && argv.some((a) => a === 'cephgate-chroot' || a === 'build-step' || a.endsWith('/debootstrap'));
    if ((daemon || buildStep) && !(await ofLiveCluster(p.cmdline))) strays.push(p.pid);
    else if (under(p.root) && (await readlink(`/proc/${p.pid}/ns/mnt`).catch(() => '')) === ourNs) usersHere++;
  }
  if (strays.length > 0) await killAndWait(strays, log, `stray process in ${chroot}`);
  const mounts = await mountsUnder(chroot);
  if (mounts.length > 0 && usersHere > 0) {
    log(`left mounted under ${chroot} (${usersHere} other process(es) work in it): ${mounts.join(', ')}`);
    return;
  }
  for (const m of mounts) {
    await execFileP('umount', ['-l', m]).then(
      () => log(`unmounted stale ${m}`),
      (e: Error) => log(`could not unmount ${m}: ${e.message}`),
    );
  }
}

/** Mount points at or below `dir` in this process's namespace, deepest first. */
export async function mountsUnder(dir: string): Promise<string[]> {
  const info = await readFile('/proc/self/mountinfo', 'utf8').catch(() => '');
  const points = info
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((p): p is string => p !== undefined)
    .map(unescapeMountPath)
    .filter((p) => p === dir || p.startsWith(`${dir}/`));
  return [...new Set(points)].sort((a, b) => b.length - a.length);
}
