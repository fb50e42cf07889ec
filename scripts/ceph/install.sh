#!/bin/sh
# Installs the Debian/Ubuntu packages scripts/ceph/cluster.ts needs for a real throwaway Ceph
# (CI and the demo); does nothing when they are already there. Run as root.
#   install.sh        Pacific: Debian 12's ceph packages on this host
#   install.sh reef   also what building the Reef chroot needs (debootstrap); the chroot itself is
#                     built by `npx tsx scripts/ceph/cli.ts ensure-reef` (reef-root.ts)
set -eu

PKGS="ceph-mon ceph-mgr ceph-mgr-dashboard ceph-osd ceph-common"
REEF_PKGS="debootstrap"

missing=""
for cmd in ceph ceph-authtool monmaptool ceph-mon ceph-mgr ceph-osd; do
  command -v "$cmd" >/dev/null 2>&1 || missing="$missing $cmd"
done
[ -f /usr/share/ceph/mgr/dashboard/module.py ] || missing="$missing dashboard"
want="$PKGS"
if [ "${1:-}" = reef ]; then
  [ -x /usr/sbin/debootstrap ] || missing="$missing debootstrap"
  want="$want $REEF_PKGS"
fi

if [ -z "$missing" ]; then
  echo "ceph: already installed ($(ceph --version 2>/dev/null | cut -d' ' -f1-3))"
  exit 0
fi

echo "ceph: missing:$missing; installing $want"
if ! command -v apt-get >/dev/null 2>&1; then
  echo "ceph: apt-get not found; install $want with your package manager" >&2
  exit 1
fi
SUDO=""
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "ceph: run as root (or install sudo) to install $want" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
# shellcheck disable=SC2086
$SUDO apt-get install -y --no-install-recommends $want
ceph --version
