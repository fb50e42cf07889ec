// Chain checkpoints: the head (seq, hash) recorded periodically and, with a configured Ed25519 key,
// signed as a compact JWS, so rewriting the whole chain after a checkpoint needs the private key.

import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { and, asc, eq, gt } from 'drizzle-orm';
import { CompactSign, compactVerify } from 'jose';
import type { Db } from '../db/database.ts';
import { type AuditCheckpointRow, auditChainHead, auditCheckpoints } from '../db/schema.ts';
import { canonicalJson } from './chain.ts';

export interface CheckpointKeys {
  readonly privateKey: KeyObject | null;
  readonly publicKey: KeyObject;
}

/** Reads a PEM Ed25519 key: a private key (PKCS#8) signs and verifies, a public key (SPKI) only verifies. */
export function loadCheckpointKey(file: string): CheckpointKeys {
  const pem = readFileSync(file, 'utf8');
  if (pem.includes('PRIVATE KEY')) {
    const privateKey = createPrivateKey(pem);
    if (privateKey.asymmetricKeyType !== 'ed25519') throw new Error(`${file}: not an Ed25519 key`);
    return { privateKey, publicKey: createPublicKey(privateKey) };
  }
  const publicKey = createPublicKey(pem);
  if (publicKey.asymmetricKeyType !== 'ed25519') throw new Error(`${file}: not an Ed25519 key`);
  return { privateKey: null, publicKey };
}

const payloadOf = (seq: number, hash: string, createdAt: Date) => new TextEncoder().encode(canonicalJson({ seq, hash, created_at: createdAt }));

export async function signCheckpoint(key: KeyObject, seq: number, hash: string, createdAt: Date): Promise<string> {
  return new CompactSign(payloadOf(seq, hash, createdAt)).setProtectedHeader({ alg: 'EdDSA', typ: 'cephgate-audit-checkpoint' }).sign(key);
}

/** Records the current chain head as a checkpoint (kind `prune` marks a retention anchor). */
export async function writeCheckpoint(
  db: Db,
  key: KeyObject | null,
  kind: 'checkpoint' | 'prune' = 'checkpoint',
  at?: { seq: number; hash: string },
): Promise<AuditCheckpointRow> {
  let point = at;
  if (point === undefined) {
    const [head] = await db.select().from(auditChainHead).where(eq(auditChainHead.id, 1));
    if (head === undefined) throw new Error('audit chain head missing: run migrations');
    point = head;
  }
  const createdAt = new Date();
  const signature = key === null ? null : await signCheckpoint(key, point.seq, point.hash, createdAt);
  const [row] = await db.insert(auditCheckpoints).values({ kind, seq: point.seq, hash: point.hash, createdAt, signature }).returning();
  if (row === undefined) throw new Error('checkpoint not written');
  return row;
}

export interface CheckpointReport {
  readonly checked: number;
  readonly unsigned: number;
  /** First checkpoint whose signature does not verify over its (seq, hash, created_at). */
  readonly firstBad: { readonly id: number; readonly seq: number } | null;
}

/** Checks every signature (from `afterSeq`); verifyChain separately checks checkpoint hashes against the chain. */
export async function verifyCheckpointSignatures(db: Db, publicKey: KeyObject, afterSeq = 0): Promise<CheckpointReport> {
  let checked = 0;
  let unsigned = 0;
  const rows = await db
    .select()
    .from(auditCheckpoints)
    .where(and(gt(auditCheckpoints.seq, afterSeq - 1)))
    .orderBy(asc(auditCheckpoints.id));
  for (const r of rows) {
    if (r.signature === null) {
      unsigned++;
      continue;
    }
    try {
      const { payload } = await compactVerify(r.signature, publicKey, { algorithms: ['EdDSA'] });
      if (Buffer.compare(Buffer.from(payload), Buffer.from(payloadOf(r.seq, r.hash, r.createdAt))) !== 0) throw new Error('payload');
      checked++;
    } catch {
      return { checked, unsigned, firstBad: { id: r.id, seq: r.seq } };
    }
  }
  return { checked, unsigned, firstBad: null };
}

/** Writes a checkpoint every `intervalMs` while the head moves; returns a stop function. */
export function startCheckpoints(
  db: Db,
  opts: { readonly intervalMs: number; readonly key: KeyObject | null; readonly onError?: (err: unknown) => void },
): () => void {
  let lastSeq = -1;
  const timer = setInterval(() => {
    void (async () => {
      const [head] = await db.select().from(auditChainHead).where(eq(auditChainHead.id, 1));
      if (head === undefined || head.seq === lastSeq) return;
      await writeCheckpoint(db, opts.key, 'checkpoint', head);
      lastSeq = head.seq;
    })().catch((err: unknown) => opts.onError?.(err));
  }, opts.intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
