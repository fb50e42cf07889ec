// Where the cached Reef chroot lives and how to get it: ensureReefRoot() builds it once (about
// 3 min, ~700 MB; reef-build.ts), then only checks it and sweeps what crashed runs left in it.
// CI calls it up front: `npx tsx scripts/ceph/cli.ts ensure-reef`.
// To run a program of the chroot by hand (Reef's Python on its dashboard sources, say), use
// runner.ts's chrootCommand(): it mounts /proc and /dev for that process only. Mounting them in
// the host's namespace instead leaves mounts that a later sweep lazily unmounts once unused.
//
//   CEPHGATE_REEF_ROOT    the chroot (default /var/cache/cephgate/reef-trixie)
//   CEPHGATE_REEF_MIRROR  Debian mirror (default: the host's, from /etc/apt/sources.list{,.d})

import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { withLock } from './lock.ts';
import { build, SUITE } from './reef-build.ts';
import { sweepChroot } from './stale.ts';

const DEFAULT_ROOT = '/var/cache/cephgate/reef-trixie';
const DEFAULT_MIRROR = 'http://deb.debian.org/debian';
/** Written last; a root without exactly this is (re)built. Bump when the recipe changes. */
const READY = `cephgate reef root v2 (${SUITE})`;
const BUILD_TIMEOUT_MS = 20 * 60_000;

export function reefRootDir(): string {
  return resolve(process.env.CEPHGATE_REEF_ROOT || DEFAULT_ROOT);
}

/**
 * Reef's dashboard sources inside the chroot: controllers/*.py, openapi.yaml, frontend/dist, ...
 * (Debian's ceph-mgr-dashboard 18.2.7). Valid once ensureReefRoot() has finished.
 */
export function reefDashboardDir(root: string = reefRootDir()): string {
  return join(root, 'usr/share/ceph/mgr/dashboard');
}

const readyFile = (root: string) => join(root, '.cephgate', 'ready');

/** Whether the chroot is complete, without building anything (cephInstalled('reef') uses it). */
export function reefRootReady(root: string = reefRootDir()): { ok: true } | { ok: false; reason: string } {
  let text = '';
  try {
    // Synchronous, as cephInstalled() is: one small file.
    text = readFileSync(readyFile(root), 'utf8');
  } catch {
    /* not built, or half built */
  }
  if (text === READY) return { ok: true };
  return {
    ok: false,
    reason: `the Reef chroot ${root} is ${existsSync(root) ? 'incomplete or of an older recipe' : 'not built'}; build it with \`npx tsx scripts/ceph/cli.ts ensure-reef\` (root, debootstrap installed, about 3 min)`,
  };
}

/** The host's Debian mirror: the first enabled, non-security `deb` source of its apt configuration. */
export async function hostMirror(): Promise<string> {
  if (process.env.CEPHGATE_REEF_MIRROR) return process.env.CEPHGATE_REEF_MIRROR;
  const dir = '/etc/apt/sources.list.d';
  const files = ['/etc/apt/sources.list', ...(await readdir(dir).catch(() => [] as string[])).sort().map((f) => join(dir, f))];
  for (const f of files) {
    const text = await readFile(f, 'utf8').catch(() => '');
    if (f.endsWith('.sources')) {
      for (const stanza of text.split(/\n\s*\n/)) {
        const field = (name: string) => new RegExp(`^${name}:\\s*(.+)$`, 'mi').exec(stanza)?.[1]?.trim() ?? '';
        if (!/\bdeb\b/.test(field('Types')) || /^no$/i.test(field('Enabled'))) continue;
        const uri = field('URIs').split(/\s+/)[0];
        if (uri && !/security/.test(`${uri} ${field('Suites')}`)) return uri.replace(/\/$/, '');
      }
    } else if (f.endsWith('.list')) {
      for (const line of text.split('\n')) {
        const m = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)/.exec(line.trim());
        if (m?.[1] && m[2] && /\/debian\/?$/.test(m[1]) && !/security/.test(`${m[1]} ${m[2]}`)) return m[1].replace(/\/$/, '');
      }
    }
  }
  return DEFAULT_MIRROR;
}

const ensuring = new Map<string, Promise<string>>();

/**
 * Makes sure the Reef chroot is complete and nothing stale runs or is mounted in it; builds or
 * completes it when needed (as root, with debootstrap installed). Returns its path. Safe to call
 * from several processes at once: one builds, the others wait for its lock.
 */
export function ensureReefRoot(opts: { log?: (line: string) => void; root?: string } = {}): Promise<string> {
  const root = resolve(opts.root ?? reefRootDir());
  const log = opts.log ?? (() => {});
  let p = ensuring.get(root);
  if (!p) {
    p = ensure(root, log).finally(() => ensuring.delete(root));
    ensuring.set(root, p);
  }
  return p;
}

async function ensure(root: string, log: (line: string) => void): Promise<string> {
  await mkdir(dirname(root), { recursive: true });
  return withLock(
    `${root}.lock`,
    BUILD_TIMEOUT_MS,
    (owner) => log(`waiting for pid ${owner}, which holds ${root}.lock (building the Reef chroot?)`),
    async () => {
      await sweepChroot(root, log);
      if (reefRootReady(root).ok) return root;
      if (!existsSync('/usr/sbin/debootstrap'))
        throw new Error('building the Reef chroot needs debootstrap: `apt-get install -y debootstrap` (or `scripts/ceph/install.sh reef`)');
      const t0 = Date.now();
      const logFile = `${root}.log`;
      log(`building the Reef chroot ${root} (log ${logFile})`);
      await build({ root, mirror: await hostMirror(), logFile, log });
      await writeFile(readyFile(root), READY);
      log(`Reef chroot ready after ${Math.round((Date.now() - t0) / 1000)} s`);
      return root;
    },
  );
}
