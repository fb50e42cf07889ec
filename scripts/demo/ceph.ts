// The demo's throwaway Ceph: makes sure the packages are there (installs them when run as root on
// Debian/Ubuntu, else says exactly how), starts a cluster and creates the accounts the policies name.

import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { type CephCluster, cephInstalled, startCluster } from '../ceph/cluster.ts';

const PACKAGES = 'ceph-mon ceph-mgr ceph-mgr-dashboard ceph-osd ceph-common';

/** A gateway account: the name the policies use, the Ceph dashboard user behind it and its role. */
export interface DemoAccount {
  readonly name: 'reader' | 'operator' | 'admin';
  readonly username: string;
  readonly role: string;
  readonly password: string;
  /** The environment variable the gateway reads the password from (config `password_env`). */
  readonly env: string;
}

function debianLike(): boolean {
  try {
    const osRelease = readFileSync('/etc/os-release', 'utf8');
    return /^(ID|ID_LIKE)=.*\b(debian|ubuntu)\b/m.test(osRelease);
  } catch {
    return false;
  }
}

/** How to install Ceph by hand, for the message printed when the demo cannot do it itself. */
export function installInstructions(): string {
  return [
    'The demo needs the Ceph daemons (a throwaway cluster runs on loopback, no containers).',
    'On Debian or Ubuntu, as root (or with sudo):',
    '    sudo scripts/ceph/install.sh',
    `    # which runs: apt-get update && apt-get install -y --no-install-recommends ${PACKAGES}`,
    'Other distributions: install the same Ceph packages (Pacific 16.2 or newer: mon, mgr with the',
    'dashboard module, osd, and the ceph CLI), then run `npm run demo` again.',
  ].join('\n');
}

/**
 * Returns null when Ceph is ready to use, else the reason it is not. As root on Debian/Ubuntu the
 * packages are installed with scripts/ceph/install.sh first (the issue asks for exactly that).
 */
export function ensureCephInstalled(say: (line: string) => void): string | null {
  const first = cephInstalled();
  if (first.ok) return null;
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!isRoot || !debianLike()) return `${first.reason}\n\n${installInstructions()}`;
  say(`Ceph is missing; installing it (root on Debian/Ubuntu): sh scripts/ceph/install.sh`);
  const r = spawnSync('sh', ['scripts/ceph/install.sh'], { stdio: 'inherit' });
  if (r.status !== 0) return `scripts/ceph/install.sh failed (exit ${r.status ?? r.signal})\n\n${installInstructions()}`;
  const second = cephInstalled();
  return second.ok ? null : `${second.reason}\n\n${installInstructions()}`;
}

/** A password Ceph's default password policy accepts (length, upper, lower, digit, special). */
const randomPassword = () => `Demo-${randomBytes(12).toString('base64url')}-7a!`;

export async function startDemoCeph(log: (line: string) => void): Promise<{ cluster: CephCluster; accounts: DemoAccount[] }> {
  const cluster = await startCluster({ name: 'demo', mgrs: 1, log });
  try {
    // The same three accounts as test/support/ceph-cli.ts, with fresh random passwords.
    const accounts: DemoAccount[] = [
      { name: 'reader', username: 'cg-reader', role: 'read-only', password: randomPassword(), env: 'CEPHGATE_DEMO_PW_READER' },
      { name: 'operator', username: 'cg-operator', role: 'administrator', password: randomPassword(), env: 'CEPHGATE_DEMO_PW_OPERATOR' },
      { name: 'admin', username: 'cg-admin', role: 'administrator', password: randomPassword(), env: 'CEPHGATE_DEMO_PW_ADMIN' },
    ];
    // createDashboardUser uses the CLI, so the users do not get pwdUpdateRequired (docs/ceph-facts.md).
    for (const a of accounts) await cluster.createDashboardUser(a.username, a.password, [a.role]);
    return { cluster, accounts };
  } catch (err) {
    await cluster.stop();
    throw err;
  }
}
