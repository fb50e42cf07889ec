#!/bin/sh
# Installs the Debian/Ubuntu packages scripts/ceph/cluster.ts needs for a real throwaway Ceph
# (CI and the demo); does nothing when they are already there. Run as root.
set -eu

PKGS="ceph-mon ceph-mgr ceph-mgr-dashboard ceph-osd ceph-common"

missing=""
for cmd in ceph ceph-authtool monmaptool ceph-mon ceph-mgr ceph-osd; do
  command -v "$cmd" >/dev/null 2>&1 || missing="$missing $cmd"
done
[ -f /usr/share/ceph/mgr/dashboard/module.py ] || missing="$missing dashboard"

if [ -z "$missing" ]; then
  echo "ceph: already installed ($(ceph --version 2>/dev/null | cut -d' ' -f1-3))"
  exit 0
fi

echo "ceph: missing:$missing; installing $PKGS"
if ! command -v apt-get >/dev/null 2>&1; then
  echo "ceph: apt-get not found; install $PKGS with your package manager" >&2
  exit 1
fi
SUDO=""
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "ceph: run as root (or install sudo) to install $PKGS" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
# shellcheck disable=SC2086
$SUDO apt-get install -y --no-install-recommends $PKGS
ceph --version
