// The audit store: an AuditSink with group commit. Callers enqueue events; one writer per process
// appends whole batches to the hash chain in one transaction and resolves each caller after COMMIT.

import { eq, getTableColumns, inArray, sql } from 'drizzle-orm';
import type { PgTable } from 'drizzle-orm/pg-core';
import type { Database, Db } from '../db/database.ts';
import { auditChainHead, auditIntents, auditOutcomes } from '../db/schema.ts';
import type { AuditIntent, AuditOutcome, AuditSink } from '../pipeline/types.ts';
import { GatewayError } from '../server/errors.ts';
import { chainHash } from './chain.ts';
import { eventContent, type IntentDraft, type IntentRow, intentDraft, type OutcomeDraft, type OutcomeRow, outcomeDraft } from './records.ts';
import { createRedactor, type Redactor } from './redact.ts';

export interface AuditStoreOptions {
  readonly redactor?: Redactor;
  /** Most events per transaction. */
  readonly batchMax?: number;
  /** Most events waiting; beyond it calls reject at once. */
  readonly queueMax?: number;
  /** recordIntent / recordOutcome reject when not committed within this bound. */
  readonly timeoutMs?: number;
  /** Transactions in flight at once (default: 2 on Postgres, 1 on PGlite). */
  readonly writers?: number;
  /** Close the database with the store. */
  readonly ownsDatabase?: boolean;
  /** Write failures (the caller also gets a rejection; this is for the log). */
  readonly onError?: (err: unknown) => void;
}

export interface AuditStore extends AuditSink {
  readonly database: Database;
  readonly db: Db;
}

type Pending =
  | { kind: 'intent'; draft: IntentDraft; waiter: Waiter | null }
  | { kind: 'outcome'; draft: OutcomeDraft; waiter: Waiter | null };

interface Waiter {
  resolve(): void;
  reject(err: unknown): void;
  /** The caller has been answered (timed out); a later commit must not resolve it again. */
  done: boolean;
  /** Still in the queue (not yet taken by a transaction). */
  queued: boolean;
}

export function unavailable(detail: string, cause?: unknown): GatewayError {
  return new GatewayError(503, 'audit_unavailable', detail, { headers: { 'Retry-After': '1' }, cause });
}

/** SQLSTATE classes 22 (data exception) and 23 (integrity): the row is at fault, not the database. */
function isRowError(err: unknown): boolean {
  for (let e: unknown = err, i = 0; e !== null && typeof e === 'object' && i < 4; e = (e as { cause?: unknown }).cause, i++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^(22|23)/.test(code)) return true;
  }
  return false;
}

export function createAuditStore(database: Database, opts: AuditStoreOptions = {}): AuditStore {
  const db = database.db;
  const redactor = opts.redactor ?? createRedactor();
  const batchMax = opts.batchMax ?? 500;
  const queueMax = opts.queueMax ?? 20000;
  const timeoutMs = opts.timeoutMs ?? 2000;
  const queue: Pending[] = [];
  // Postgres: two transactions in flight, so the next batch is built and sent while the previous one
  // commits; the chain-head row lock still orders them. PGlite has one connection: one writer.
  const writers = opts.writers ?? (database.kind === 'postgres' ? 2 : 1);
  const active = new Set<Promise<void>>();
  let closed = false;

  function enqueue(p: Pending): Promise<void> {
    const waiter: Waiter = { resolve: noop, reject: noop, done: false, queued: true };
    p.waiter = waiter;
    if (closed) return Promise.reject(unavailable('The audit store is closed.'));
    if (queue.length >= queueMax) return Promise.reject(unavailable('The audit queue is full.'));
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        if (waiter.done) return;
        waiter.done = true;
        if (waiter.queued && queue.includes(p)) queue.splice(queue.indexOf(p), 1); // never written: nothing reached Ceph
        reject(unavailable('The audit store did not commit in time.'));
      }, timeoutMs);
      waiter.resolve = () => {
        clearTimeout(timer);
        if (waiter.done) return;
        waiter.done = true;
        resolve();
      };
      waiter.reject = (err) => {
        clearTimeout(timer);
        if (waiter.done) return;
        waiter.done = true;
        reject(err);
      };
      queue.push(p);
      kick();
    });
  }

  function kick(): void {
    while (active.size < writers && queue.length > 0) {
      const batch = queue.splice(0, batchMax);
      for (const p of batch) if (p.waiter) p.waiter.queued = false;
      const run: Promise<void> = writeBatch(batch).finally(() => {
        active.delete(run);
        kick();
      });
      active.add(run);
    }
  }

  async function writeBatch(batch: Pending[]): Promise<void> {
    let orphans: Pending[] = [];
    try {
      orphans = await appendEvents(batch);
    } catch (err) {
      if (batch.length > 1 && isRowError(err)) {
        // One bad row must not refuse its batch-mates: retry each alone, so only it is rejected.
        for (const p of batch) await writeBatch([p]);
        return;
      }
      opts.onError?.(err);
      for (const p of batch) p.waiter?.reject(unavailable('The audit store is unavailable.', err));
      return;
    }
    for (const p of batch) {
      if (orphans.includes(p)) {
        p.waiter?.reject(new Error('audit outcome for an unknown record id'));
        continue;
      }
      const lateIntent = p.kind === 'intent' && p.waiter !== null && p.waiter.done;
      p.waiter?.resolve();
      // Committed after its caller gave up (and answered 503): the request was never forwarded, so say so.
      if (lateIntent) queue.push({ kind: 'outcome', draft: outcomeDraft(p.draft.id, lateOutcome()), waiter: null });
    }
  }

  /** One transaction: lock the chain head, hash the batch onto it, insert, move the head. Returns
   *  outcome events skipped because their intent does not exist. */
  async function appendEvents(batch: Pending[]): Promise<Pending[]> {
    return database.transaction(async (tx) => {
      const [head] = await tx.select().from(auditChainHead).where(eq(auditChainHead.id, 1)).for('update');
      if (head === undefined) throw new Error('audit chain head missing: run migrations');
      const batchIntents = new Set(batch.filter((p) => p.kind === 'intent').map((p) => p.draft.id));
      const asked = [...new Set(batch.flatMap((p) => (p.kind === 'outcome' && !batchIntents.has(p.draft.recordId) ? [p.draft.recordId] : [])))];
      const known = new Set(batchIntents);
      if (asked.length > 0) {
        for (const r of await tx.select({ id: auditIntents.id }).from(auditIntents).where(inArray(auditIntents.id, asked))) known.add(r.id);
      }
      let { seq, hash } = head;
      const intents: IntentRow[] = [];
      const outcomes: OutcomeRow[] = [];
      const orphans: Pending[] = [];
      for (const p of batch) {
        if (p.kind === 'outcome' && !known.has(p.draft.recordId)) {
          orphans.push(p);
          continue;
        }
        seq += 1;
        const prevHash = hash;
        if (p.kind === 'intent') {
          const row = { ...p.draft, seq };
          hash = chainHash(prevHash, eventContent('intent', row));
          intents.push({ ...row, prevHash, hash });
        } else {
          const row = { ...p.draft, seq };
          hash = chainHash(prevHash, eventContent('outcome', row));
          outcomes.push({ ...row, prevHash, hash });
        }
      }
      if (intents.length > 0) await bulkInsert(tx, auditIntents, intents);
      if (outcomes.length > 0) await bulkInsert(tx, auditOutcomes, outcomes);
      await tx.update(auditChainHead).set({ seq, hash }).where(eq(auditChainHead.id, 1));
      return orphans;
    });
  }

  return {
    database,
    db,
    recordIntent(intent: AuditIntent): Promise<void> {
      let draft: IntentDraft;
      try {
        draft = intentDraft(intent, redactor);
      } catch (err) {
        return Promise.reject(unavailable('The audit record could not be built.', err));
      }
      return enqueue({ kind: 'intent', draft, waiter: null });
    },
    recordOutcome(id: string, outcome: AuditOutcome): Promise<void> {
      return enqueue({ kind: 'outcome', draft: outcomeDraft(id, outcome), waiter: null });
    },
    async ping(): Promise<boolean> {
      try {
        await withTimeout(db.execute(sql`select 1`), timeoutMs);
        return true;
      } catch {
        return false;
      }
    },
    async close(): Promise<void> {
      closed = true;
      while (active.size > 0) await Promise.all(active);
      if (opts.ownsDatabase === true) await database.close();
    },
  };
}

function noop(): void {}

/** Inserts many rows with ONE parameter (a JSON array expanded by jsonb_to_recordset): drizzle's
 *  multi-row VALUES builder costs ~0.5 ms per row at 30 columns, which alone capped group commit. */
async function bulkInsert(tx: Db, table: PgTable, rows: readonly object[]): Promise<void> {
  const cols = Object.entries(getTableColumns(table));
  const names = cols.map(([, c]) => `"${c.name}"`).join(', ');
  const defs = cols.map(([, c]) => `"${c.name}" ${c.getSQLType()}`).join(', ');
  const json = JSON.stringify(rows.map((r) => Object.fromEntries(cols.map(([k, c]) => [c.name, (r as Record<string, unknown>)[k] ?? null]))));
  await tx.execute(sql`insert into ${table} (${sql.raw(names)}) select ${sql.raw(names)} from jsonb_to_recordset(${json}::jsonb) as x(${sql.raw(defs)})`);
}

function lateOutcome(): AuditOutcome {
  return { forwardedAt: null, completedAt: new Date(), upstreamStatus: null, status: 503, cephErrorDetail: null, cephErrorCode: null, cephTask: null, errorCode: 'audit_unavailable' };
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('timeout')), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}
