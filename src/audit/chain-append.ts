// Appending audit events to the hash chain, for one writer: events are numbered and hashed onto the
// chain head and written in ONE statement that moves the head only from exactly the (seq, hash) it
// chained onto (optimistic); when another writer (another gateway instance) moved it, the batch is
// appended again under the head's row lock. Also knows which committed intents still await their
// outcome, so an outcome whose intent does not exist is refused instead of chained.

import { eq, getTableColumns, inArray, sql } from 'drizzle-orm';
import type { PgTable } from 'drizzle-orm/pg-core';
import type { Database, Db } from '../db/database.ts';
import { auditChainHead, auditIntents, auditOutcomes } from '../db/schema.ts';
import { chainHash } from './chain.ts';
import { eventContent, type IntentDraft, type IntentRow, type OutcomeDraft, type OutcomeRow } from './records.ts';

/** One event to append: an intent (a request's record) or an outcome (added to a committed intent). */
export type ChainEvent = { readonly kind: 'intent'; readonly draft: IntentDraft } | { readonly kind: 'outcome'; readonly draft: OutcomeDraft };

export interface ChainAppender {
  /** Appends the events in order; returns the outcome events left out because their intent does not exist. */
  append(events: readonly ChainEvent[]): Promise<ChainEvent[]>;
}

export function createChainAppender(database: Database): ChainAppender {
  const db = database.db;
  // The chain head as this writer last saw it (null: read it first). One statement in autocommit is
  // one round trip and one commit per batch; the locking transaction alone took four (BEGIN, SELECT
  // ... FOR UPDATE, insert, COMMIT).
  let head: ChainHead | null = null;
  // Intents this writer committed whose outcome has not come yet: their outcomes need no lookup.
  const awaitingOutcome = new Set<string>();

  /** Optimistic first; when another writer moved the head, wait for its row lock in a transaction
   *  (a fair queue: a busy writer that never needs to re-read cannot starve a retrying one). */
  async function appendChained(events: readonly ChainEvent[]): Promise<ChainHead> {
    const from = head ?? (await readHead(db, false));
    const chained = chain(events, from);
    if (await appendIfHeadIs(db, from, chained)) return { seq: chained.seq, hash: chained.hash };
    return database.transaction(async (tx) => {
      const locked = await readHead(tx, true);
      const again = chain(events, locked);
      if (!(await appendIfHeadIs(tx, locked, again))) throw new Error('audit chain head moved under its row lock');
      return { seq: again.seq, hash: again.hash };
    });
  }

  return {
    async append(batch) {
      const batchIntents = new Set(batch.flatMap((p) => (p.kind === 'intent' ? [p.draft.id] : [])));
      const intentKnown = (id: string) => batchIntents.has(id) || awaitingOutcome.has(id);
      const unknownIds = [...new Set(batch.flatMap((p) => (p.kind === 'outcome' && !intentKnown(p.draft.recordId) ? [p.draft.recordId] : [])))];
      const found = new Set(unknownIds.length > 0 ? await existingIntents(db, unknownIds) : []);
      const orphans = batch.filter((p) => p.kind === 'outcome' && !intentKnown(p.draft.recordId) && !found.has(p.draft.recordId));
      const orphaned = new Set(orphans);
      const events = batch.filter((p) => !orphaned.has(p));
      try {
        head = await appendChained(events);
      } catch (err) {
        head = null; // the statement may have committed without our hearing it: read the head again
        throw err;
      }
      for (const p of events) {
        if (p.kind === 'intent' && p.draft.finalStatus === null) awaitingOutcome.add(p.draft.id);
        else if (p.kind === 'outcome') awaitingOutcome.delete(p.draft.recordId);
      }
      // Bounded in case outcomes never come (a bug must not grow memory): evicted ids fall back to a lookup.
      for (const id of awaitingOutcome) {
        if (awaitingOutcome.size <= AWAITING_MAX) break;
        awaitingOutcome.delete(id);
      }
      return orphans;
    },
  };
}

interface ChainHead {
  readonly seq: number;
  readonly hash: string;
}

const AWAITING_MAX = 50_000;

async function readHead(db: Db, lock: boolean): Promise<ChainHead> {
  const q = db.select().from(auditChainHead).where(eq(auditChainHead.id, 1));
  const [row] = lock ? await q.for('update') : await q;
  if (row === undefined) throw new Error('audit chain head missing: run migrations');
  return { seq: row.seq, hash: row.hash };
}

async function existingIntents(db: Db, ids: readonly string[]): Promise<string[]> {
  return (
    await db
      .select({ id: auditIntents.id })
      .from(auditIntents)
      .where(inArray(auditIntents.id, [...ids]))
  ).map((r) => r.id);
}

/** Numbers and hashes the events onto `head`, in order. */
function chain(events: readonly ChainEvent[], head: ChainHead): { intents: IntentRow[]; outcomes: OutcomeRow[]; seq: number; hash: string } {
  let { seq, hash } = head;
  const intents: IntentRow[] = [];
  const outcomes: OutcomeRow[] = [];
  for (const p of events) {
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
  return { intents, outcomes, seq, hash };
}

/** The columns of a table as `jsonb_to_recordset` needs them, and rows as JSON under the column names. */
function recordset(table: PgTable, rows: readonly object[]): { names: string; defs: string; json: string } {
  const cols = Object.entries(getTableColumns(table));
  return {
    names: cols.map(([, c]) => `"${c.name}"`).join(', '),
    defs: cols.map(([, c]) => `"${c.name}" ${c.getSQLType()}`).join(', '),
    json: JSON.stringify(rows.map((r) => Object.fromEntries(cols.map(([k, c]) => [c.name, (r as Record<string, unknown>)[k] ?? null])))),
  };
}

/**
 * ONE statement (data-modifying CTEs, autocommit): move the head from exactly `from` to the new
 * (seq, hash), and insert the rows only if it moved. A concurrent writer's UPDATE of the same row
 * waits for this one to commit, then finds seq changed and moves nothing (READ COMMITTED re-checks
 * the WHERE on the new row version), so two writers can never chain onto the same head. Each table's
 * rows travel as ONE JSON parameter expanded by jsonb_to_recordset: drizzle's multi-row VALUES
 * builder costs ~0.5 ms per row at 30 columns, which alone capped group commit.
 */
async function appendIfHeadIs(
  db: Db,
  from: ChainHead,
  c: { intents: readonly IntentRow[]; outcomes: readonly OutcomeRow[]; seq: number; hash: string },
): Promise<boolean> {
  const i = recordset(auditIntents, c.intents);
  const o = recordset(auditOutcomes, c.outcomes);
  const result = (await db.execute(sql`
    with moved as (
      update ${auditChainHead} set seq = ${c.seq}, hash = ${c.hash} where id = 1 and seq = ${from.seq} and hash = ${from.hash} returning 1
    ), new_intents as (
      insert into ${auditIntents} (${sql.raw(i.names)})
      select ${sql.raw(i.names)} from jsonb_to_recordset(${i.json}::jsonb) as x(${sql.raw(i.defs)}) where exists (select 1 from moved)
    ), new_outcomes as (
      insert into ${auditOutcomes} (${sql.raw(o.names)})
      select ${sql.raw(o.names)} from jsonb_to_recordset(${o.json}::jsonb) as x(${sql.raw(o.defs)}) where exists (select 1 from moved)
    )
    select count(*)::int as moved from moved`)) as unknown as { rows: { moved: number }[] };
  return (result.rows[0]?.moved ?? 0) === 1;
}
