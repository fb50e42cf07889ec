// Retention: removes the chain prefix whose records are older than the cutoff. An anchor (a `prune`
// checkpoint holding the last removed event's seq and hash) is written first, so verify restarts there.

import type { KeyObject } from 'node:crypto';
import { and, eq, gte, lte, min, sql } from 'drizzle-orm';
import type { Db } from '../db/database.ts';
import { auditChainHead, auditIntents, auditOutcomes } from '../db/schema.ts';
import { writeCheckpoint } from './checkpoint.ts';

export interface PruneReport {
  /** Chain events up to this seq were removed (0: nothing to remove). */
  readonly throughSeq: number;
  readonly intentsDeleted: number;
  readonly outcomesDeleted: number;
}

/**
 * Intents and outcomes share one chain, so only a prefix can go: up to the event before the first
 * intent received at or after the cutoff. Every intent before that point is older than the cutoff;
 * outcomes after it stay (a record's outcome may come after younger intents) until a later prune.
 */
export async function pruneAudit(
  db: Db,
  opts: { readonly olderThan: Date; readonly key?: KeyObject | null; readonly batchSize?: number },
): Promise<PruneReport> {
  const batch = opts.batchSize ?? 10000;
  const [head] = await db.select().from(auditChainHead).where(eq(auditChainHead.id, 1));
  if (head === undefined) throw new Error('audit chain head missing: run migrations');
  const [first] = await db
    .select({ seq: min(auditIntents.seq) })
    .from(auditIntents)
    .where(gte(auditIntents.receivedAt, opts.olderThan));
  const through = first?.seq == null ? head.seq : Number(first.seq) - 1;
  if (through <= 0) return { throughSeq: 0, intentsDeleted: 0, outcomesDeleted: 0 };
  const [i] = await db.select({ hash: auditIntents.hash }).from(auditIntents).where(eq(auditIntents.seq, through));
  const [o] = i === undefined ? await db.select({ hash: auditOutcomes.hash }).from(auditOutcomes).where(eq(auditOutcomes.seq, through)) : [];
  const hash = i?.hash ?? o?.hash;
  if (hash === undefined) return { throughSeq: 0, intentsDeleted: 0, outcomesDeleted: 0 }; // already pruned
  await writeCheckpoint(db, opts.key ?? null, 'prune', { seq: through, hash });
  // Small transactions: a million-row delete in one would hold locks and bloat WAL for minutes.
  let intentsDeleted = 0;
  let outcomesDeleted = 0;
  for (;;) {
    const r = await db.execute(
      sql`delete from ${auditIntents} where ${auditIntents.id} in (select ${auditIntents.id} from ${auditIntents} where ${lte(auditIntents.seq, through)} limit ${batch})`,
    );
    const n = affected(r);
    intentsDeleted += n;
    if (n < batch) break;
  }
  for (;;) {
    const r = await db.execute(
      sql`delete from ${auditOutcomes} where ${auditOutcomes.recordId} in (select ${auditOutcomes.recordId} from ${auditOutcomes} where ${and(lte(auditOutcomes.seq, through))} limit ${batch})`,
    );
    const n = affected(r);
    outcomesDeleted += n;
    if (n < batch) break;
  }
  return { throughSeq: through, intentsDeleted, outcomesDeleted };
}

/** Row count of a DELETE on either driver (pg: rowCount, PGlite: affectedRows). */
function affected(r: unknown): number {
  const x = r as { rowCount?: number | null; affectedRows?: number };
  return Number(x.rowCount ?? x.affectedRows ?? 0);
}
