// How a Ceph program of one release is run: Pacific straight from this host (Debian 12's packages),
// Reef inside the cached Debian 13 chroot (reef-root.ts), each call in a private mount namespace.
//
// Why a namespace per call: /proc, /dev and the cluster dir have to be mounted inside the chroot
// while a daemon or CLI runs there. Mounted in a private namespace they exist only for that process
// and vanish with it, however it ends (stop(), SIGKILL, a crashed test runner); nothing is ever
// mounted in the host's namespace, so no mount can stay behind and no `rm -rf` of a cluster dir or
// of the chroot can walk into the host's /dev. Two clusters never see each other's /tmp either.

import { onPath } from './support.ts';

export type CephRelease = 'pacific' | 'reef';
export const RELEASES: readonly CephRelease[] = ['pacific', 'reef'];

export interface Command {
  readonly file: string;
  readonly args: string[];
  /** Environment for the child; undefined means inherit this process's. */
  readonly env?: NodeJS.ProcessEnv;
}

export interface Runner {
  readonly release: CephRelease;
  /** The chroot, or undefined when the host's own programs are used. */
  readonly root?: string;
  /** The command line that runs `program args` (a Ceph program name: ceph, rbd, ceph-mon, ...). */
  command(program: string, args: string[]): Command;
}

export function hostRunner(): Runner {
  return { release: 'pacific', command: (program, args) => ({ file: program, args }) };
}

/**
 * Runs inside `root` after, in a fresh mount namespace: /proc, /dev (recursively, for /dev/shm
 * and /dev/pts), a tmpfs on /tmp, and `bind` (the cluster dir) at the same absolute path inside,
 * so ceph.conf and every path in it mean the same on both sides. `mkdir -p` of the bind target
 * lands in the namespace's tmpfs for dirs under /tmp (nothing is written into the chroot then).
 */
const ENTER = `set -e
root=$1; bind=$2; shift 2
mount -t proc proc "$root/proc"
mount --rbind /dev "$root/dev"
mount -t tmpfs -o mode=1777 tmpfs "$root/tmp"
if [ -n "$bind" ]; then mkdir -p "$root$bind"; mount --bind "$bind" "$root$bind"; fi
exec chroot "$root" "$@"`;

/** A clean environment: the host's PATH, PYTHONPATH or locale must not leak into Debian 13's Python. */
const CHROOT_ENV: NodeJS.ProcessEnv = {
  PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
  LANG: 'C.UTF-8',
  HOME: '/root',
  DEBIAN_FRONTEND: 'noninteractive',
};

export function chrootCommand(root: string, bind: string | undefined, program: string, args: string[]): Command {
  // unshare execs sh, which execs chroot, which execs the program: one pid from spawn() to the
  // daemon, so kill() and setpriv's parent-death signal reach the daemon itself.
  return {
    file: 'unshare',
    args: ['--mount', '--propagation', 'private', '--', '/bin/sh', '-c', ENTER, 'cephgate-chroot', root, bind ?? '', program, ...args],
    env: CHROOT_ENV,
  };
}

export function chrootRunner(root: string, bind: string): Runner {
  return { release: 'reef', root, command: (program, args) => chrootCommand(root, bind, program, args) };
}

/** util-linux's setpriv sets PR_SET_PDEATHSIG, which Node cannot do for its children. */
const HAVE_SETPRIV = onPath('setpriv');

/**
 * setpriv --pdeathsig: the kernel kills the process when this one dies, even by SIGKILL (an 'exit'
 * handler never runs then); the signal survives the execs of the chroot entry down to the program.
 * Daemons need it most; CLI calls too, or a `ceph` of a crashed start waits out its connect
 * timeout on a mon that died with us.
 */
export function withPdeathsig(c: Command): Command {
  return HAVE_SETPRIV ? { ...c, file: 'setpriv', args: ['--pdeathsig', 'KILL', '--', c.file, ...c.args] } : c;
}
