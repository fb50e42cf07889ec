// Runs the `ceph` CLI against the shared test clusters (by their ceph.conf), and creates the Ceph
// dashboard accounts the example policies name (reader, operator, admin), idempotently.

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export async function cephCli(conf: string, args: string[], input?: string): Promise<string> {
  if (input === undefined) return (await run('ceph', ['-c', conf, ...args], { timeout: 60_000 })).stdout;
  return await new Promise((resolve, reject) => {
    const child = execFile('ceph', ['-c', conf, ...args], { timeout: 60_000 }, (err, stdout, stderr) =>
      err ? reject(new Error(`${err.message}: ${stderr}`)) : resolve(stdout),
    );
    child.stdin?.end(input);
  });
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
