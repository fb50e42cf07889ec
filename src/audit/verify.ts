// Walks the audit hash chain in `seq` order (intents and outcomes interleaved), recomputing every
// hash from the stored columns, and reports the first broken link. Reads in batches: constant memory.

import { and, desc, eq, gt, lte } from 'drizzle-orm';
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
