// The ceph.conf of a throwaway single-host cluster (docs/ceph-facts.md, "A real single-host cluster for
// tests"), with what one release needs beyond the common recipe.

import type { CephRelease } from './runner.ts';

/**
 * Lines only one release needs. Reef from Debian 13 ships a relative default class dir
 * (`lib/x86_64-linux-gnu/rados-classes`, resolved against the OSD's working dir): without the
 * absolute path the OSD loads no cls_rbd and every RBD call fails with errno 95 (EOPNOTSUPP).
 */
const RELEASE_LINES: Record<CephRelease, string> = {
  pacific: '',
  reef: 'osd class dir = /usr/lib/x86_64-linux-gnu/rados-classes\n',
};

export function confText(release: CephRelease, dir: string, fsid: string, monPort: number): string {
  // Everything lives under `dir` so several clusters run side by side and stop() leaves nothing:
  // `run dir` holds the admin sockets, whose default (/var/run/ceph/ceph-mon.a.asok) two clusters
  // (or two runs in one chroot) would share. Each mgr/osd has its own keyring path, else they fail
  // with handle_auth_bad_method (docs/ceph-facts.md).
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
${RELEASE_LINES[release]}
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
