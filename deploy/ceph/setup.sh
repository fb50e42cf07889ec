#!/bin/bash
# One-shot set-up of the compose file's Ceph demo container: turns on the dashboard on the private
# network only and creates the three dashboard accounts the example policies name. Idempotent.
set -euo pipefail

# The demo container writes ceph.conf and the admin keyring to the shared /etc/ceph volume.
until ceph --connect-timeout 10 health >/dev/null 2>&1; do echo "waiting for the mon"; sleep 2; done

# Plain http is acceptable only because the `ceph` network is internal to compose (see
# docs/deployment.md for TLS with ca_file in production). Bind on all addresses of the container:
# the container is attached to the internal network only.
ceph config set mgr mgr/dashboard/ssl false
ceph config set mgr mgr/dashboard/server_addr 0.0.0.0
ceph config set mgr mgr/dashboard/server_port 8080
# Restarting the module applies the address and port.
ceph mgr module disable dashboard || true
ceph mgr module enable dashboard

# `ceph dashboard` commands work once the active mgr has loaded the module.
for _ in $(seq 1 90); do ceph dashboard ac-user-show >/dev/null 2>&1 && break; sleep 2; done

account() { # <user> <role> <password>
  if ceph dashboard ac-user-show "$1" >/dev/null 2>&1; then
    printf '%s' "$3" | ceph dashboard ac-user-set-password "$1" -i - --force-password >/dev/null
  else
    # Created through the CLI the users do not get pwdUpdateRequired (which would make them 403).
    printf '%s' "$3" | ceph dashboard ac-user-create "$1" -i - "$2" --force-password >/dev/null
  fi
  echo "dashboard account $1 ($2) ready"
}
account cg-reader read-only "${CEPH_PW_READER:?set CEPH_PW_READER}"
account cg-operator administrator "${CEPH_PW_OPERATOR:?set CEPH_PW_OPERATOR}"
account cg-admin administrator "${CEPH_PW_ADMIN:?set CEPH_PW_ADMIN}"
