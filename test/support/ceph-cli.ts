// Runs the `ceph` CLI against the shared test clusters (by their ceph.conf), and creates the Ceph
// dashboard accounts the example policies name (reader, operator, admin), idempotently. The CLI is
// the release's own (test/run.ts publishes it as CEPHGATE_TEST_RELEASE): Reef's runs in the Reef
// chroot of scripts/ceph, where the cluster dir is bound at the same path for that one call.

import { execFile } from 'node:child_process';
import { dirname } from 'node:path';
import { reefRootDir } from '../../scripts/ceph/cluster.ts';
import { type Command, chrootCommand, withPdeathsig } from '../../scripts/ceph/runner.ts';
import { testEnv } from './requirements.ts';

/** `program -c <conf> args` of the shared clusters' release. */
export function cephCommand(conf: string, program: string, args: string[]): Command {
  const all = ['-c', conf, ...args];
  return testEnv.release === 'reef' ? withPdeathsig(chrootCommand(reefRootDir(), dirname(conf), program, all)) : { file: program, args: all };
}

/** Runs a Ceph program (`ceph`, `rbd`, `rados`) of the shared clusters' release; returns stdout. */
export function cephProgram(conf: string, program: string, args: string[], input?: string): Promise<string> {
  const c = cephCommand(conf, program, args);
  return new Promise((resolve, reject) => {
    const child = execFile(c.file, c.args, { timeout: 60_000, maxBuffer: 64 << 20, ...(c.env ? { env: c.env } : {}) }, (err, stdout, stderr) =>
      err ? reject(new Error(`${program} ${args.join(' ')}: ${err.message}: ${stderr}`)) : resolve(stdout),
    );
    child.stdin?.end(input);
  });
}

export function cephCli(conf: string, args: string[], input?: string): Promise<string> {
  return cephProgram(conf, 'ceph', args, input);
}

export interface TestAccount {
  readonly name: string;
  readonly username: string;
  readonly password: string;
  readonly role: string;
}

/** Gateway account name -> Ceph dashboard user and role, as the example policies expect. */
export const TEST_ACCOUNTS: readonly TestAccount[] = [
  { name: 'reader', username: 'cg-reader', password: 'Reader-pw-1!', role: 'read-only' },
  { name: 'operator', username: 'cg-operator', password: 'Operator-pw-1!', role: 'administrator' },
  { name: 'admin', username: 'cg-admin', password: 'Admin-pw-1!', role: 'administrator' },
];

/** Creates the accounts (a user that already exists is left as it is). */
export async function ensureTestAccounts(conf: string, accounts: readonly TestAccount[] = TEST_ACCOUNTS): Promise<void> {
  const existing = JSON.parse(await cephCli(conf, ['dashboard', 'ac-user-show', '--format', 'json'])) as string[];
  for (const a of accounts) {
    if (existing.includes(a.username)) continue;
    try {
      await cephCli(conf, ['dashboard', 'ac-user-create', a.username, '-i', '-', a.role, '--force-password'], a.password);
    } catch (err) {
      // Another test file may have created it at the same moment.
      if (!/already exists/i.test((err as Error).message)) throw err;
    }
  }
}
