// The audit store: the AuditSink of the gateway. Events are group-committed (group-commit.ts) to the
// hash chain (chain-append.ts); refusals go to the local spool (spool.ts) while the database is down
// and are appended when it is back.

import { sql } from 'drizzle-orm';
import type { AuditIntent, AuditOutcome, AuditSink } from '../core/audit.ts';
import { auditUnavailable, errorCodes } from '../core/errors.ts';
import { withTimeout } from '../core/timeout.ts';
import type { Database, Db } from '../db/database.ts';
import { type ChainEvent, createChainAppender } from './chain-append.ts';
import { createGroupCommit } from './group-commit.ts';
import { type IntentDraft, intentDraft, outcomeDraft } from './records.ts';
import { createRedactor, type Redactor } from './redact.ts';
import type { RefusalSpool } from './spool.ts';

export interface AuditStoreOptions {
  readonly redactor?: Redactor;
  /** Most events per batch (one statement, one commit). */
  readonly batchMax?: number;
  /** Most events waiting; beyond it calls reject at once. */
  readonly queueMax?: number;
  /** recordIntent / recordOutcome reject when not committed within this bound. */
  readonly timeoutMs?: number;
  /** Close the database with the store. */
  readonly ownsDatabase?: boolean;
  /** Write failures (the caller also gets a rejection; this is for the log). */
  readonly onError?: (err: unknown) => void;
  /** Where refusals go while the database is down (replayed into the chain once it answers again). */
  readonly spool?: RefusalSpool;
  /** How often waiting spooled refusals are retried while the store stays idle. Default 5000 ms. */
  readonly replayIntervalMs?: number;
}

export interface AuditStore extends AuditSink {
  readonly database: Database;
  readonly db: Db;
  /** Resolves once every event enqueued before the call is committed (or has failed), or after the write timeout. */
  flush(): Promise<void>;
  /** Replays spooled refusals now (also done on a timer and after the store recovers); how many. */
  replaySpool(): Promise<number>;
  /** Events waiting for the next group commit (for the queue-depth metric). */
  queueDepth(): number;
  /** Called after each group commit with its size, duration and whether it failed (one observer, for metrics). */
  observeCommits(observer: (size: number, seconds: number, failed: boolean) => void): void;
}

/** SQLSTATE classes 22 (data exception) and 23 (integrity): the row is at fault, not the database. */
const isRowError = (err: unknown): boolean => errorCodes(err).some((code) => /^(22|23)[0-9A-Z]{3}$/.test(code));

export function createAuditStore(database: Database, opts: AuditStoreOptions = {}): AuditStore {
  const redactor = opts.redactor ?? createRedactor();
  const timeoutMs = opts.timeoutMs ?? 2000;
  const appender = createChainAppender(database);
  const spool = opts.spool;
  // Whether the last write reached the database: refusals skip the wait for a store known to be down.
  let healthy = true;
  let replaying: Promise<number> | null = null;

  /** One statement per batch; one bad row must not refuse its batch-mates: then each is retried alone. */
  async function commit(batch: ChainEvent[]): Promise<readonly (unknown | null)[]> {
    let orphans: Set<ChainEvent>;
    try {
      orphans = new Set(await appender.append(batch));
    } catch (err) {
      if (batch.length > 1 && isRowError(err)) {
        const each: (unknown | null)[] = [];
        for (const e of batch) each.push(...(await commit([e]).catch((failure: unknown) => [failure])));
        return each;
      }
      opts.onError?.(err);
      healthy = false;
      throw auditUnavailable('The audit store is unavailable.', err);
    }
    if (!healthy) {
      healthy = true;
      if (spool !== undefined) void replaySpool();
    }
    return batch.map((e) => (orphans.has(e) ? new Error('audit outcome for an unknown record id') : null));
  }

  let commitObserver: ((size: number, seconds: number, failed: boolean) => void) | null = null;
  const writer = createGroupCommit<ChainEvent>({
    onBatch: (size, seconds, failed) => commitObserver?.(size, seconds, failed),
    batchMax: opts.batchMax ?? 500,
    queueMax: opts.queueMax ?? 20000,
    timeoutMs,
    commit,
    // A store this slow is down for refusals: they go to the spool until a batch commits.
    onTimeout: () => {
      healthy = false;
    },
    // Committed after its caller gave up (and answered 503): the request was never forwarded, so say so.
    onLateCommit: (e) => {
      if (e.kind === 'intent') writer.push({ kind: 'outcome', draft: outcomeDraft(e.draft.id, lateOutcome()) });
    },
  });

  /** Appends spooled refusals to the chain; a record the store already holds (a replay after a crash) counts as done. */
  function replaySpool(): Promise<number> {
    if (spool === undefined) return Promise.resolve(0);
    replaying ??= spool
      .replay(async (drafts) => {
        const results = await Promise.allSettled(drafts.map((draft) => writer.enqueue({ kind: 'intent', draft })));
        const failed = results.find((r) => r.status === 'rejected' && !isRowError(r.reason));
        if (failed !== undefined) throw (failed as PromiseRejectedResult).reason;
      })
      .catch((err: unknown) => {
        opts.onError?.(err);
        return 0;
      })
      .finally(() => {
        replaying = null;
      });
    return replaying;
  }
  const replayTimer =
    spool === undefined ? undefined : setInterval(() => void spool.pending().then((p) => (p && healthy ? replaySpool() : 0)), opts.replayIntervalMs ?? 5000);
  replayTimer?.unref();

  const draftOf = (intent: AuditIntent): IntentDraft => {
    try {
      return intentDraft(intent, redactor);
    } catch (err) {
      throw auditUnavailable('The audit record could not be built.', err);
    }
  };

  return {
    database,
    db: database.db,
    replaySpool,
    queueDepth: () => writer.depth(),
    observeCommits(observer) {
      commitObserver = observer;
    },
    async recordIntent(intent) {
      await writer.enqueue({ kind: 'intent', draft: draftOf(intent) });
    },
    async recordRefusal(intent) {
      const draft = draftOf(intent);
      if (healthy || spool === undefined) {
        try {
          return await writer.enqueue({ kind: 'intent', draft });
        } catch (err) {
          if (spool === undefined || isRowError(err)) throw err;
        }
      }
      await spool.append(draft);
    },
    recordOutcome(id: string, outcome: AuditOutcome) {
      return writer.enqueue({ kind: 'outcome', draft: outcomeDraft(id, outcome) });
    },
    async ping() {
      try {
        await withTimeout(database.db.execute(sql`select 1`), timeoutMs, 'audit store ping');
        return true;
      } catch {
        return false;
      }
    },
    flush: () => writer.flush(),
    async close() {
      clearInterval(replayTimer);
      await replaying;
      await writer.close();
      await spool?.close();
      if (opts.ownsDatabase === true) await database.close();
    },
  };
}

function lateOutcome(): AuditOutcome {
  return {
    forwardedAt: null,
    completedAt: new Date(),
    upstreamStatus: null,
    status: 503,
    cephErrorDetail: null,
    cephErrorCode: null,
    cephTask: null,
    errorCode: 'audit_unavailable',
  };
}
