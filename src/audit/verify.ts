// Walks the audit hash chain in `seq` order (intents and outcomes interleaved), recomputing every
// hash from the stored columns, and reports the first broken link. Reads in batches: constant memory.
// Also one record's place in the chain (its events and their neighbours) and the chain's anchors,
// for the audit viewer.

import { and, asc, desc, eq, gt, gte, lte } from 'drizzle-orm';
import type { Db } from '../db/database.ts';
import { auditChainHead, auditCheckpoints, auditIntents, auditOutcomes } from '../db/schema.ts';
import { chainHash, GENESIS_HASH } from './chain.ts';
import { eventContent } from './records.ts';

export type BrokenReason = 'hash_mismatch' | 'prev_hash_mismatch' | 'missing_event' | 'duplicate_seq' | 'head_mismatch' | 'beyond_head' | 'checkpoint_mismatch';

export interface BrokenLink {
  readonly seq: number;
  readonly kind: 'intent' | 'outcome' | 'head' | 'checkpoint';
  /** The audit record (intent id) of the broken event, when there is one. */
  readonly recordId: string | null;
  readonly reason: BrokenReason;
}

export interface VerifyReport {
  readonly ok: boolean;
  /** Events whose hashes were recomputed. */
  readonly checked: number;
  /** Where verification started (0, or the last prune anchor). */
  readonly fromSeq: number;
  readonly headSeq: number;
  readonly firstBroken: BrokenLink | null;
}

export async function verifyChain(
  db: Db,
  opts: { readonly batchSize?: number; readonly onProgress?: (seq: number, head: number) => void } = {},
): Promise<VerifyReport> {
  const batchSize = opts.batchSize ?? 5000;
  const [head] = await db.select().from(auditChainHead).where(eq(auditChainHead.id, 1));
  if (head === undefined) throw new Error('audit chain head missing: run migrations');
  const [anchor] = await db.select().from(auditCheckpoints).where(eq(auditCheckpoints.kind, 'prune')).orderBy(desc(auditCheckpoints.seq)).limit(1);
  const fromSeq = anchor?.seq ?? 0;
  let prevHash = anchor?.hash ?? GENESIS_HASH;
  const checkpoints = new Map<number, string>();
  for (const c of await db
    .select({ seq: auditCheckpoints.seq, hash: auditCheckpoints.hash })
    .from(auditCheckpoints)
    .where(and(eq(auditCheckpoints.kind, 'checkpoint'), gt(auditCheckpoints.seq, fromSeq)))) {
    checkpoints.set(c.seq, c.hash);
  }
  let checked = 0;
  const report = (firstBroken: BrokenLink | null): VerifyReport => ({ ok: firstBroken === null, checked, fromSeq, headSeq: head.seq, firstBroken });

  for (let lo = fromSeq; lo < head.seq; lo += batchSize) {
    const hi = Math.min(lo + batchSize, head.seq);
    const [intents, outcomes] = [
      await db
        .select()
        .from(auditIntents)
        .where(and(gt(auditIntents.seq, lo), lte(auditIntents.seq, hi))),
      await db
        .select()
        .from(auditOutcomes)
        .where(and(gt(auditOutcomes.seq, lo), lte(auditOutcomes.seq, hi))),
    ];
    type Ev = { kind: 'intent' | 'outcome'; recordId: string; seq: number; prevHash: string; hash: string; content: Record<string, unknown> };
    const bySeq = new Map<number, Ev>();
    const events: Ev[] = [
      ...intents.map((r): Ev => ({ kind: 'intent', recordId: r.id, seq: r.seq, prevHash: r.prevHash, hash: r.hash, content: eventContent('intent', r) })),
      ...outcomes.map(
        (r): Ev => ({ kind: 'outcome', recordId: r.recordId, seq: r.seq, prevHash: r.prevHash, hash: r.hash, content: eventContent('outcome', r) }),
      ),
    ];
    for (const e of events) {
      if (bySeq.has(e.seq)) return report({ seq: e.seq, kind: e.kind, recordId: e.recordId, reason: 'duplicate_seq' });
      bySeq.set(e.seq, e);
    }
    for (let seq = lo + 1; seq <= hi; seq++) {
      const e = bySeq.get(seq);
      if (e === undefined) return report({ seq, kind: 'intent', recordId: null, reason: 'missing_event' });
      if (e.prevHash !== prevHash) return report({ seq, kind: e.kind, recordId: e.recordId, reason: 'prev_hash_mismatch' });
      const h = chainHash(prevHash, e.content);
      if (h !== e.hash) return report({ seq, kind: e.kind, recordId: e.recordId, reason: 'hash_mismatch' });
      const cp = checkpoints.get(seq);
      if (cp !== undefined && cp !== h) return report({ seq, kind: 'checkpoint', recordId: null, reason: 'checkpoint_mismatch' });
      prevHash = h;
      checked++;
    }
    opts.onProgress?.(hi, head.seq);
  }
  if (prevHash !== head.hash) return report({ seq: head.seq, kind: 'head', recordId: null, reason: 'head_mismatch' });
  // Rows appended by hand past the head are not part of the chain: flag them too.
  const [extraI] = await db.select({ seq: auditIntents.seq, id: auditIntents.id }).from(auditIntents).where(gt(auditIntents.seq, head.seq)).limit(1);
  if (extraI !== undefined) return report({ seq: extraI.seq, kind: 'intent', recordId: extraI.id, reason: 'beyond_head' });
  const [extraO] = await db.select({ seq: auditOutcomes.seq, id: auditOutcomes.recordId }).from(auditOutcomes).where(gt(auditOutcomes.seq, head.seq)).limit(1);
  if (extraO !== undefined) return report({ seq: extraO.seq, kind: 'outcome', recordId: extraO.id, reason: 'beyond_head' });
  return report(null);
}

/** One event of a record in the chain: its links, and whether its hash still matches what it holds. */
export interface EventPlace {
  readonly kind: 'intent' | 'outcome';
  readonly seq: number;
  readonly prevHash: string;
  readonly hash: string;
  /** sha256(prev_hash, content) recomputed now equals the stored hash. */
  readonly hashMatches: boolean;
  /** The event before it (null at the start of the chain or after a prune anchor). */
  readonly previous: { readonly kind: 'intent' | 'outcome'; readonly recordId: string; readonly seq: number; readonly linked: boolean } | null;
  /** The event after it (null at the head). */
  readonly next: { readonly kind: 'intent' | 'outcome'; readonly recordId: string; readonly seq: number; readonly linked: boolean } | null;
}

/** A record's place in the hash chain: its events, their neighbours, and the checkpoint that covers it. */
export interface RecordPlace {
  readonly intent: EventPlace;
  readonly outcome: EventPlace | null;
  readonly head: { readonly seq: number; readonly hash: string };
  /** The first checkpoint at or after the record's last event: the point from which a later rewrite shows. */
  readonly checkpoint: { readonly id: number; readonly seq: number; readonly createdAt: Date; readonly signed: boolean } | null;
}

type EventAt = { kind: 'intent' | 'outcome'; recordId: string; seq: number; prevHash: string; hash: string };

async function eventAt(db: Db, seq: number): Promise<EventAt | null> {
  const [ie] = await db
    .select({ recordId: auditIntents.id, prevHash: auditIntents.prevHash, hash: auditIntents.hash })
    .from(auditIntents)
    .where(eq(auditIntents.seq, seq))
    .limit(1);
  if (ie !== undefined) return { kind: 'intent', seq, ...ie };
  const [oe] = await db
    .select({ recordId: auditOutcomes.recordId, prevHash: auditOutcomes.prevHash, hash: auditOutcomes.hash })
    .from(auditOutcomes)
    .where(eq(auditOutcomes.seq, seq))
    .limit(1);
  return oe === undefined ? null : { kind: 'outcome', seq, ...oe };
}

/**
 * Where one record sits in the chain, checked locally: each of its events' hashes recomputed from the
 * stored columns, and the links to the events just before and after. Four indexed lookups by seq; it
 * proves the record is consistent with its neighbours, not the whole chain (that is verifyChain).
 */
export async function recordPlace(db: Db, intent: typeof auditIntents.$inferSelect, outcome: typeof auditOutcomes.$inferSelect | null): Promise<RecordPlace> {
  const place = async (
    kind: 'intent' | 'outcome',
    row: { seq: number; prevHash: string; hash: string },
    content: Record<string, unknown>,
  ): Promise<EventPlace> => {
    const [before, after] = await Promise.all([row.seq > 1 ? eventAt(db, row.seq - 1) : null, eventAt(db, row.seq + 1)]);
    return {
      kind,
      seq: row.seq,
      prevHash: row.prevHash,
      hash: row.hash,
      hashMatches: chainHash(row.prevHash, content) === row.hash,
      previous: before === null ? null : { kind: before.kind, recordId: before.recordId, seq: before.seq, linked: before.hash === row.prevHash },
      next: after === null ? null : { kind: after.kind, recordId: after.recordId, seq: after.seq, linked: after.prevHash === row.hash },
    };
  };
  const [head] = await db.select().from(auditChainHead).where(eq(auditChainHead.id, 1));
  const last = outcome?.seq ?? intent.seq;
  const [cp] = await db
    .select()
    .from(auditCheckpoints)
    .where(and(eq(auditCheckpoints.kind, 'checkpoint'), gte(auditCheckpoints.seq, last)))
    .orderBy(asc(auditCheckpoints.seq))
    .limit(1);
  return {
    intent: await place('intent', intent, eventContent('intent', intent)),
    outcome: outcome === null ? null : await place('outcome', outcome, eventContent('outcome', outcome)),
    head: { seq: head?.seq ?? 0, hash: head?.hash ?? GENESIS_HASH },
    checkpoint: cp === undefined ? null : { id: cp.id, seq: cp.seq, createdAt: cp.createdAt, signed: cp.signature !== null },
  };
}

/** The chain's anchors for the verification panel: head, newest checkpoint, and the last prune anchor. */
export async function chainStatus(db: Db): Promise<{
  readonly head: { readonly seq: number; readonly hash: string };
  readonly checkpoint: { readonly id: number; readonly seq: number; readonly hash: string; readonly createdAt: Date; readonly signed: boolean } | null;
  readonly pruneAnchor: { readonly seq: number; readonly createdAt: Date } | null;
}> {
  const [head] = await db.select().from(auditChainHead).where(eq(auditChainHead.id, 1));
  const latest = (kind: 'checkpoint' | 'prune') =>
    db.select().from(auditCheckpoints).where(eq(auditCheckpoints.kind, kind)).orderBy(desc(auditCheckpoints.seq)).limit(1);
  const [[cp], [anchor]] = await Promise.all([latest('checkpoint'), latest('prune')]);
  return {
    head: { seq: head?.seq ?? 0, hash: head?.hash ?? GENESIS_HASH },
    checkpoint: cp === undefined ? null : { id: cp.id, seq: cp.seq, hash: cp.hash, createdAt: cp.createdAt, signed: cp.signature !== null },
    pruneAnchor: anchor === undefined ? null : { seq: anchor.seq, createdAt: anchor.createdAt },
  };
}
