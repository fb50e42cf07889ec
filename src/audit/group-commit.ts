// Group commit for the audit store: callers enqueue events and wait; one writer takes up to `batchMax`
// queued events at a time and commits them together, and each caller is answered when its event
// committed, failed, or did not commit within `timeoutMs`. Events queued while a batch commits form
// the next batch. One batch in flight: appends move the chain head from one known state to the next,
// so a second writer in the same process would only collide with the first (with the earlier locking
// transaction, two writers also measured worse than one: 1,000 audited POST/s, p99 25.9 vs 17.6 ms).

import { auditUnavailable } from '../core/errors.ts';
import { withTimeout } from '../core/timeout.ts';

export interface GroupCommitOptions<E> {
  readonly batchMax: number;
  readonly queueMax: number;
  readonly timeoutMs: number;
  /**
   * Commits a batch; resolves with each event's failure (null: committed), or rejects when the whole
   * batch failed (each caller then gets that error).
   */
  commit(batch: E[]): Promise<readonly (unknown | null)[]>;
  /** A caller was answered 503 because its event did not commit in time. */
  onTimeout(): void;
  /** An event committed after its caller had been answered (timed out). */
  onLateCommit(event: E): void;
  /** Each batch written: its size, how long the commit took, and whether it failed as a whole. */
  onBatch?(size: number, seconds: number, failed: boolean): void;
}

export interface GroupCommit<E> {
  /** Resolves once the event is committed; rejects with 503 `audit_unavailable` otherwise. */
  enqueue(event: E): Promise<void>;
  /** Queues an event nobody waits for (it is committed with the next batch). */
  push(event: E): void;
  /** Resolves once everything queued before the call has been committed or has failed (bounded by timeoutMs). */
  flush(): Promise<void>;
  /** Refuses new events and waits for the batch in flight. */
  close(): Promise<void>;
  /** Events waiting for a batch (not counting the batch being committed). */
  depth(): number;
}

interface Waiter {
  resolve(): void;
  reject(err: unknown): void;
  /** The caller has been answered (timed out); a later commit must not answer it again. */
  done: boolean;
}

interface Queued<E> {
  readonly event: E;
  readonly waiter: Waiter | null;
}

export function createGroupCommit<E>(o: GroupCommitOptions<E>): GroupCommit<E> {
  const queue: Queued<E>[] = [];
  let active: Promise<void> | null = null;
  let closed = false;

  function kick(): void {
    if (active !== null || queue.length === 0) return;
    const batch = queue.splice(0, o.batchMax);
    active = write(batch).finally(() => {
      active = null;
      kick();
    });
  }

  async function write(batch: Queued<E>[]): Promise<void> {
    let failures: readonly (unknown | null)[];
    const started = performance.now();
    try {
      failures = await o.commit(batch.map((q) => q.event));
      o.onBatch?.(batch.length, (performance.now() - started) / 1000, false);
    } catch (err) {
      o.onBatch?.(batch.length, (performance.now() - started) / 1000, true);
      for (const q of batch) q.waiter?.reject(err);
      return;
    }
    for (const [i, q] of batch.entries()) {
      const failure = failures[i] ?? null;
      if (failure !== null) q.waiter?.reject(failure);
      else {
        if (q.waiter?.done === true) o.onLateCommit(q.event);
        q.waiter?.resolve();
      }
    }
  }

  return {
    enqueue(event) {
      if (closed) return Promise.reject(auditUnavailable('The audit store is closed.'));
      if (queue.length >= o.queueMax) return Promise.reject(auditUnavailable('The audit queue is full.'));
      return new Promise<void>((resolve, reject) => {
        const waiter: Waiter = {
          done: false,
          resolve() {
            clearTimeout(timer);
            if (!waiter.done) resolve();
            waiter.done = true;
          },
          reject(err) {
            clearTimeout(timer);
            if (!waiter.done) reject(err);
            waiter.done = true;
          },
        };
        const queued: Queued<E> = { event, waiter };
        const timer = setTimeout(() => {
          if (waiter.done) return;
          waiter.done = true;
          const at = queue.indexOf(queued);
          if (at >= 0) queue.splice(at, 1); // never written: nothing reached Ceph
          o.onTimeout();
          reject(auditUnavailable('The audit store did not commit in time.'));
        }, o.timeoutMs);
        queue.push(queued);
        kick();
      });
    },
    push(event) {
      queue.push({ event, waiter: null });
      kick();
    },
    depth: () => queue.length,
    async flush() {
      // One writer takes the queue in order: once the last event queued now has left the queue, the
      // batch holding it is the active one, and everything before it was in earlier batches.
      const last = queue.at(-1);
      const drained = (async () => {
        while (last !== undefined && queue.includes(last)) {
          kick();
          if (active === null) break; // nothing will take it: never spin
          await active.catch(() => undefined);
        }
        await active?.catch(() => undefined);
      })();
      // Bounded like a write: a hung database must not hang the readers of the audit API too.
      await withTimeout(drained, o.timeoutMs, 'audit flush').catch(() => undefined);
    },
    async close() {
      closed = true;
      while (active !== null) await active.catch(() => undefined);
    },
  };
}
