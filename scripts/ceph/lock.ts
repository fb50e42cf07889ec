// A lock file between processes (test runner, CI's ensure step, `cli.ts up` in another shell) that
// build or sweep the Reef chroot: only one may run debootstrap or apt-get in it at a time.
// The file holds the owner's pid, so a lock left by a killed process is taken over, not waited on.

import { readFile, unlink, writeFile } from 'node:fs/promises';
import { pidAlive, sleep } from './support.ts';

export async function withLock<T>(path: string, timeoutMs: number, onWait: (owner: number) => void, body: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let told = false;
  for (;;) {
    try {
      await writeFile(path, String(process.pid), { flag: 'wx' });
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const owner = Number(await readFile(path, 'utf8').catch(() => ''));
    // An empty file is a writer caught between create and write: wait for it like a live owner.
    if (owner && owner !== process.pid && !pidAlive(owner)) {
      // Re-read just before removing: another waiter may have taken the stale lock meanwhile.
      if (Number(await readFile(path, 'utf8').catch(() => '')) === owner) await unlink(path).catch(() => {});
      continue;
    }
    if (Date.now() > deadline) throw new Error(`lock ${path} still held by pid ${owner || '?'} after ${timeoutMs} ms`);
    if (!told) onWait(owner);
    told = true;
    await sleep(500);
  }
  try {
    return await body();
  } finally {
    await unlink(path).catch(() => {});
  }
}
