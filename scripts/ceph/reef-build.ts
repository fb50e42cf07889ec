// The steps that turn an empty directory into the Reef chroot (docs/ceph-facts.md, "A real Reef (18.2.7) next
// to Pacific"): debootstrap Debian 13, install Ceph 18.2.7 from it, swap in bookworm's abi3 builds
// of python3-cryptography and python3-bcrypt. Each step leaves a marker, so a build interrupted
// anywhere is completed by the next call instead of being trusted or started over.

import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chrootCommand } from './runner.ts';
import { mountsUnder } from './stale.ts';
import { tail } from './support.ts';

export const SUITE = 'trixie';
export const PACKAGES = ['ceph-mon', 'ceph-mgr', 'ceph-mgr-dashboard', 'ceph-osd', 'ceph-common'];
/** bookworm's builds, whose compiled modules carry no PyO3 "no subinterpreters" check (docs/ceph-facts.md). */
const PYO3_SWAP: Array<[pkg: string, version: RegExp]> = [
  ['python3-cryptography', /^38\./],
  ['python3-bcrypt', /^3\./],
];
const HOST_ENV: NodeJS.ProcessEnv = {
  ...process.env,
  PATH: `/usr/sbin:/usr/bin:/sbin:/bin:${process.env.PATH ?? ''}`,
  DEBIAN_FRONTEND: 'noninteractive',
  LANG: 'C.UTF-8',
};

export interface BuildContext {
  root: string;
  mirror: string;
  /** Every command's output is appended here; errors quote its tail. */
  logFile: string;
  log: (line: string) => void;
}

/**
 * Every build step runs in its own PID and mount namespace, tied to this process: setpriv's
 * parent-death signal kills unshare with us, --kill-child then kills the namespace's first process,
 * and the kernel kills the rest of the namespace with it (debootstrap's subshells, dpkg's
 * maintainer scripts). That first process is a shell that waits for the step rather than exec it:
 * an `apt-get install` there survived the signal once (apt loses it somewhere on the way). So a
 * killed build leaves nothing running to race the next one, and nothing mounted (debootstrap
 * mounts /proc and /sys in the target).
 */
const CONTAINED = [
  '--pdeathsig',
  'KILL',
  '--',
  'unshare',
  '--pid',
  '--fork',
  '--kill-child',
  '--mount',
  '--propagation',
  'private',
  '--',
  '/bin/sh',
  '-c',
  '"$@"; exit $?',
  'build-step',
];

/** Runs a command with its output in the build log; throws with the log's tail when it fails. */
async function run(ctx: BuildContext, file: string, args: string[], o: { env?: NodeJS.ProcessEnv; cwd?: string; shown?: string } = {}): Promise<void> {
  const shown = o.shown ?? `${file} ${args.join(' ')}`;
  const out = createWriteStream(ctx.logFile, { flags: 'a' });
  await new Promise<void>((r) => out.once('open', () => r()));
  out.write(`\n${new Date().toISOString()} $ ${shown}\n`);
  const code = await new Promise<number | string>((resolve, reject) => {
    const p = spawn('setpriv', [...CONTAINED, file, ...args], { env: o.env ?? HOST_ENV, cwd: o.cwd, stdio: ['ignore', out, out] });
    p.once('error', reject);
    p.once('exit', (c, s) => resolve(s ?? c ?? 0));
  });
  await new Promise<void>((r) => out.end(() => r()));
  if (code !== 0) throw new Error(`reef root: \`${shown}\` failed (${code}); tail of ${ctx.logFile}:\n${await tail(ctx.logFile, 20)}`);
}

/** Runs `program args` inside the chroot with /proc, /dev (and `bind`) mounted for this call only. */
function inRoot(ctx: BuildContext, program: string, args: string[], bind?: string): Promise<void> {
  const c = chrootCommand(ctx.root, bind, program, args);
  return run(ctx, c.file, c.args, { ...(c.env ? { env: c.env } : {}), shown: `(chroot) ${program} ${args.join(' ')}` });
}

const marker = (root: string, stage: string) => join(root, '.cephgate', stage);

async function done(root: string, stage: string, key: string): Promise<boolean> {
  return (await readFile(marker(root, stage), 'utf8').catch(() => null)) === key;
}

async function mark(root: string, stage: string, key: string): Promise<void> {
  await mkdir(join(root, '.cephgate'), { recursive: true });
  await writeFile(marker(root, stage), key);
}

/** Removes a half-built root; refuses while anything is mounted under it (a bound /dev!). */
async function wipe(ctx: BuildContext): Promise<void> {
  const mounts = await mountsUnder(ctx.root);
  if (mounts.length > 0) throw new Error(`reef root: refusing to remove ${ctx.root}, still mounted: ${mounts.join(', ')}`);
  // --one-file-system: a second guard against crossing into a mount another namespace made.
  await run(ctx, 'rm', ['-rf', '--one-file-system', ctx.root]);
}

async function base(ctx: BuildContext): Promise<void> {
  const key = `debootstrap --variant=minbase ${SUITE}`;
  if (await done(ctx.root, 'base', key)) return;
  ctx.log(`debootstrap ${SUITE} into ${ctx.root} from ${ctx.mirror} (about 1 min)`);
  await wipe(ctx);
  await run(ctx, 'debootstrap', ['--variant=minbase', SUITE, ctx.root, ctx.mirror]);
  await mark(ctx.root, 'base', key);
}

async function packages(ctx: BuildContext): Promise<void> {
  const key = `${ctx.mirror} ${PACKAGES.join(' ')}`;
  if (await done(ctx.root, 'packages', key)) return;
  ctx.log(`apt-get install ${PACKAGES.join(' ')} in the chroot (about 1.5 min)`);
  // Debian 13's own layout: the mirror in sources.list.d (deb822), not debootstrap's sources.list.
  await writeFile(
    join(ctx.root, 'etc/apt/sources.list.d/debian.sources'),
    `Types: deb\nURIs: ${ctx.mirror}\nSuites: ${SUITE}\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n`,
  );
  await unlink(join(ctx.root, 'etc/apt/sources.list')).catch(() => {});
  // No service may start inside the chroot during postinst (there is no init anyway).
  await writeFile(join(ctx.root, 'usr/sbin/policy-rc.d'), '#!/bin/sh\nexit 101\n');
  await chmod(join(ctx.root, 'usr/sbin/policy-rc.d'), 0o755);
  await writeFile(join(ctx.root, 'etc/apt/apt.conf.d/90cephgate'), 'APT::Install-Recommends "false";\nAcquire::Languages "none";\n');
  await mark(ctx.root, 'pyo3', ''); // redone after any change of the packages
  // A dpkg run interrupted by a crash is finished first; `-f` repairs what the PyO3 swap broke.
  await inRoot(ctx, 'dpkg', ['--configure', '-a']);
  await inRoot(ctx, 'apt-mark', ['unhold', ...PYO3_SWAP.map(([p]) => p)]);
  await inRoot(ctx, 'apt-get', ['update', '-q']);
  await inRoot(ctx, 'apt-get', ['install', '-y', '-q', '-f', '--no-install-recommends', ...PACKAGES]);
  await mark(ctx.root, 'packages', key);
}

/** Downloads bookworm's builds with the host's apt (a Debian 12 host); updates its lists once if needed. */
async function downloadPyo3Debs(ctx: BuildContext, dir: string): Promise<string[]> {
  const args = ['-o', 'APT::Sandbox::User=root', 'download', ...PYO3_SWAP.map(([p]) => p)];
  try {
    await run(ctx, 'apt-get', args, { cwd: dir });
  } catch {
    await run(ctx, 'apt-get', ['update', '-q']);
    await run(ctx, 'apt-get', args, { cwd: dir });
  }
  const debs = (await readdir(dir)).filter((f) => f.endsWith('.deb'));
  for (const [pkg, version] of PYO3_SWAP) {
    const deb = debs.find((f) => f.startsWith(`${pkg}_`));
    const v = decodeURIComponent(deb?.split('_')[1] ?? '');
    if (!version.test(v))
      throw new Error(`reef root: the host's apt offers ${pkg} ${v || '(none)'}, not ${version}: Debian 12's build is needed (run on a bookworm host)`);
  }
  return debs.map((f) => join(dir, f));
}

async function pyo3(ctx: BuildContext): Promise<void> {
  const key = PYO3_SWAP.map(([p, v]) => `${p} ${v}`).join(', ');
  if (await done(ctx.root, 'pyo3', key)) return;
  ctx.log('installing bookworm python3-cryptography and python3-bcrypt (abi3, loadable in mgr subinterpreters)');
  const dir = await mkdtemp(join(tmpdir(), 'cephgate-reef-debs-'));
  try {
    const debs = await downloadPyo3Debs(ctx, dir);
    // The chroot sees `dir` at the same path (bound by chrootCommand); their Depends name
    // bookworm's libraries and python3 (<< 3.12), hence --force-depends.
    await inRoot(ctx, 'dpkg', ['--force-depends', '-i', ...debs], dir);
    await inRoot(ctx, 'apt-mark', ['hold', ...PYO3_SWAP.map(([p]) => p)]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  await mark(ctx.root, 'pyo3', key);
}

/**
 * Drops apt's caches (~330 MB; the next package change downloads its lists again) and compiles the
 * mgr modules' Python once: otherwise the first mgr of every fresh chroot compiles ~1,600 files,
 * slowly, and concurrent first mgrs race to write the same .pyc files into the shared root.
 */
async function finish(ctx: BuildContext): Promise<void> {
  await inRoot(ctx, 'python3', ['-m', 'compileall', '-q', '-j', '0', '/usr/share/ceph/mgr', '/usr/lib/python3/dist-packages']).catch(() => {
    ctx.log('compileall reported errors (some files may be Python 2 or tests); continuing');
  });
  await inRoot(ctx, 'apt-get', ['clean']);
  await rm(join(ctx.root, 'var/lib/apt/lists'), { recursive: true, force: true });
  await mkdir(join(ctx.root, 'var/lib/apt/lists/partial'), { recursive: true });
}

/** What the finished root must answer; a failure here means the recipe no longer holds. */
async function verify(ctx: BuildContext): Promise<void> {
  await inRoot(ctx, 'sh', ['-c', 'ceph --version | grep -q "ceph version 18\\.2\\." && python3 -c "import cryptography, bcrypt, cherrypy"']);
}

export async function build(ctx: BuildContext): Promise<void> {
  for (const [what, step] of [
    ['base system', base],
    ['Ceph packages', packages],
    ['PyO3 swap', pyo3],
    ['finish', finish],
    ['verify', verify],
  ] as const) {
    const t0 = Date.now();
    await step(ctx);
    ctx.log(`${what}: done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }
}
