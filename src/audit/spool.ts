// The refusal spool: a local, bounded, fsync'd file of the audit records of refused requests that the
// audit store could not take (it was down), replayed into the hash chain once it is back. Only
// refusals come here: nothing was forwarded for them, so they can wait; a request that would be
// forwarded still needs its intent committed in the store first (fail closed).
//
// One file per process (`refusals-<pid>-<start>.ndjson`, one redacted record per line). Appends are
// group-committed: one write and one fdatasync for every record waiting, and each caller resolves
// after its record is on disk. A replay claims a file by renaming it (atomic; a file of a process
// that is still alive is never claimed), appends its records, then deletes it. A crash between the
// append and the delete replays them again, and the store drops what it already holds (same ids).

import { type FileHandle, mkdir, open, readdir, readFile, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { IntentDraft } from './records.ts';

export interface SpoolOptions {
  readonly dir: string;
  /** Most bytes waiting in this directory; a record beyond it is not kept (the caller is told). */
  readonly maxBytes: number;
  readonly pid?: number;
  readonly now?: () => number;
}

export interface SpoolStats {
  /** Bytes waiting in the directory (every process's files), as last seen. */
  readonly bytes: number;
  readonly spooled: number;
  readonly replayed: number;
  readonly dropped: number;
}

export interface RefusalSpool {
  /** Resolves once the record is on disk; rejects when the spool is full or the disk fails. */
  append(draft: IntentDraft): Promise<void>;
  /** True when records wait (this process's or an ended process's). */
  pending(): Promise<boolean>;
  /**
   * Hands every waiting record to `write`, oldest file first, at most `batch` at a time, and deletes
   * each file once all of its records were written. Stops at the first failure (the rest stays).
   */
  replay(write: (drafts: IntentDraft[]) => Promise<void>, batch?: number): Promise<number>;
  stats(): SpoolStats;
  close(): Promise<void>;
}

const FILE = /^refusals-(\d+)-(\d+)\.ndjson(?:\.replaying-(\d+))?$/;

/** True when a process with this pid exists (signal 0 only checks). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A spooled line back into a draft: JSON has no dates. */
function revive(line: string): IntentDraft {
  const d = JSON.parse(line) as IntentDraft & { receivedAt: string };
  return { ...d, receivedAt: new Date(d.receivedAt) };
}

export async function openRefusalSpool(opts: SpoolOptions): Promise<RefusalSpool> {
  const pid = opts.pid ?? process.pid;
  await mkdir(opts.dir, { recursive: true, mode: 0o700 });
  const started = (opts.now ?? Date.now)();
  const ownName = `refusals-${pid}-${started}.ndjson`;
  let handle: FileHandle | null = null;
  let waiting: { line: string; resolve: () => void; reject: (e: unknown) => void }[] = [];
  let flushing: Promise<void> | null = null;
  let bytes = await directoryBytes(opts.dir);
  const counts = { spooled: 0, replayed: 0, dropped: 0 };

  async function flush(): Promise<void> {
    // Runs until nothing waits; `flushing` is cleared in the same synchronous step that finds the
    // queue empty, so an append always either joins this loop or starts the next one.
    while (waiting.length > 0) {
      const batch = waiting;
      waiting = [];
      try {
        handle ??= await open(join(opts.dir, ownName), 'a', 0o600);
        await handle.write(batch.map((w) => w.line).join(''));
        await handle.datasync();
        counts.spooled += batch.length;
        for (const w of batch) w.resolve();
      } catch (err) {
        for (const w of batch) w.reject(err);
      }
    }
    flushing = null;
  }

  /** Closes this process's current file and claims it for replay (the next append opens a new one). */
  async function rotateOwn(): Promise<void> {
    await flushing;
    if (handle === null) return;
    const h = handle;
    handle = null;
    await h.close();
    await rename(join(opts.dir, ownName), join(opts.dir, `${ownName}.replaying-${pid}`)).catch(() => undefined);
  }

  /** Files to replay, oldest first: ours once rotated, and those whose writer (or claimer) has ended. */
  async function claim(): Promise<string[]> {
    const out: { name: string; started: number }[] = [];
    for (const name of await readdir(opts.dir)) {
      const m = FILE.exec(name);
      if (m === null) continue;
      const writer = Number(m[1]);
      const claimer = m[3] === undefined ? null : Number(m[3]);
      // A pid is reused across restarts (PID 1 in a container): the start time tells this process's file apart.
      const ours = writer === pid && Number(m[2]) === started;
      let claimed = name;
      if (claimer === pid) claimed = name;
      else if (claimer !== null && alive(claimer)) continue;
      else if (claimer === null && (ours || (writer !== pid && alive(writer)))) continue;
      else {
        claimed = `${name.replace(/\.replaying-\d+$/, '')}.replaying-${pid}`;
        try {
          await rename(join(opts.dir, name), join(opts.dir, claimed));
        } catch {
          continue; // another process claimed it first
        }
      }
      out.push({ name: claimed, started: Number(m[2]) });
    }
    return out.sort((a, b) => a.started - b.started).map((f) => f.name);
  }

  return {
    append(draft) {
      const line = `${JSON.stringify(draft)}\n`;
      if (bytes + Buffer.byteLength(line) > opts.maxBytes) {
        counts.dropped += 1;
        return Promise.reject(new Error(`the audit spool is full (${opts.maxBytes} bytes in ${opts.dir})`));
      }
      bytes += Buffer.byteLength(line);
      return new Promise<void>((resolve, reject) => {
        waiting.push({ line, resolve, reject });
        flushing ??= flush();
      });
    },
    async pending() {
      bytes = await directoryBytes(opts.dir);
      return bytes > 0;
    },
    async replay(write, batch = 500) {
      await rotateOwn();
      let written = 0;
      for (const name of await claim()) {
        const path = join(opts.dir, name);
        // A line torn by a crash mid-write is the only one that can fail to parse: it was never acknowledged.
        const lines = (await readFile(path, 'utf8')).split('\n').filter((l) => l.endsWith('}'));
        const drafts: IntentDraft[] = [];
        for (const l of lines) {
          try {
            drafts.push(revive(l));
          } catch {
            // torn line: its caller was never told it was kept
          }
        }
        for (let i = 0; i < drafts.length; i += batch) {
          await write(drafts.slice(i, i + batch));
          written += Math.min(batch, drafts.length - i);
        }
        await unlink(path);
        counts.replayed += drafts.length;
      }
      bytes = await directoryBytes(opts.dir);
      return written;
    },
    stats: () => ({ bytes, ...counts }),
    async close() {
      await flushing;
      await handle?.close();
      handle = null;
    },
  };
}

async function directoryBytes(dir: string): Promise<number> {
  let total = 0;
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    if (!FILE.test(name)) continue;
    total += (await stat(join(dir, name)).catch(() => ({ size: 0 }))).size;
  }
  return total;
}
