// Whether a release's Ceph programs are there to start a cluster: Pacific's Debian 12 packages on
// this host, or the finished Reef chroot. Answers with the install hint, never installs.

import { existsSync } from 'node:fs';
import { reefRootReady } from './reef-root.ts';
import type { CephRelease } from './runner.ts';
import { onPath } from './support.ts';

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

type Check = { ok: true } | { ok: false; reason: string };

/** What this host needs to enter the Reef chroot at all (before it is built or used). */
export function reefHostReady(): Check {
  // runner.ts runs them with a PATH of its own, which has the sbin dirs.
  const missing = ['unshare', 'chroot', 'mount', 'setpriv'].filter((c) => !onPath(c, ['/usr/sbin', '/sbin', '/usr/bin', '/bin']));
  if (missing.length > 0) return { ok: false, reason: `missing ${missing.join(', ')} (util-linux, coreutils) to run the Reef chroot` };
  if (process.getuid?.() !== 0) return { ok: false, reason: 'a Reef cluster runs in a chroot with its own mounts and needs root' };
  return { ok: true };
}

/** Pacific: the host's packages. Reef: the host can enter the chroot and the chroot is built. */
export function cephInstalled(release: CephRelease = 'pacific'): Check {
  if (release === 'reef') {
    const host = reefHostReady();
    return host.ok ? reefRootReady() : host;
  }
  const missing = BINARIES.filter(([cmd]) => !onPath(cmd)).map(([cmd, pkg]) => `command \`${cmd}\` (package ${pkg})`);
  if (!existsSync(DASHBOARD_MODULE)) missing.push(`${DASHBOARD_MODULE} (package ceph-mgr-dashboard)`);
  if (missing.length > 0) return { ok: false, reason: `missing ${missing.join(', ')}; ${INSTALL_HINT}` };
  return { ok: true };
}
