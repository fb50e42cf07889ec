// Runs the audit chain verification for the chain page: one run at a time per gateway process (a
// second request joins the running one, so the button cannot be used to pile up full-chain scans),
// in the background with its progress, and keeps the last result to show. The result lives in this
// process only: another gateway instance shows its own, and `cephgate audit verify` stays the tool
// of record for scheduled checks.

import { createPublicKey, type KeyObject } from 'node:crypto';
import { type CheckpointReport, verifyCheckpointSignatures } from '../../audit/checkpoint.ts';
import { type VerifyReport, verifyChain } from '../../audit/verify.ts';
import type { Db } from '../../db/database.ts';

export interface VerificationRun {
  readonly startedAt: Date;
  /** Who pressed the button (principal id). */
  readonly startedBy: string;
  readonly finishedAt: Date | null;
  /** Chain position reached and the head it runs to. */
  readonly progress: { readonly seq: number; readonly head: number };
  readonly report: VerifyReport | null;
  /** Checkpoint signatures, when the gateway has the signing key. */
  readonly signatures: CheckpointReport | null;
  /** The run failed (the database could not be read): not a verdict on the chain. */
  readonly failed: boolean;
}

export interface Verification {
  /** The running or the last finished run, or null when none ran since start-up. */
  current(): VerificationRun | null;
  /** Starts a run unless one is running; either way returns the run that is under way. */
  start(by: string): VerificationRun;
}

/** Events per batch: small enough that hashing one batch holds the event loop only ~10 ms. */
const BATCH = 1000;

export function createVerification(
  db: Db,
  opts: { readonly now: () => Date; readonly key?: KeyObject; readonly onError?: (err: unknown) => void },
): Verification {
  let run: VerificationRun | null = null;
  let running = false;
  // Signatures verify with the public half; the configured key file may hold the private one.
  const publicKey = opts.key === undefined ? undefined : opts.key.type === 'private' ? createPublicKey(opts.key) : opts.key;

  async function go(started: VerificationRun): Promise<void> {
    let progress = started.progress;
    let report: VerifyReport | null = null;
    let signatures: CheckpointReport | null = null;
    let failed = false;
    try {
      report = await verifyChain(db, {
        batchSize: BATCH,
        onProgress: (seq, head) => {
          progress = { seq, head };
          run = { ...started, progress };
        },
      });
      if (publicKey !== undefined) signatures = await verifyCheckpointSignatures(db, publicKey, report.fromSeq);
    } catch (err) {
      failed = true;
      opts.onError?.(err);
    } finally {
      run = { ...started, progress: report ? { seq: report.headSeq, head: report.headSeq } : progress, finishedAt: opts.now(), report, signatures, failed };
      running = false;
    }
  }

  return {
    current: () => run,
    start(by) {
      if (running && run !== null) return run;
      running = true;
      const started: VerificationRun = {
        startedAt: opts.now(),
        startedBy: by,
        finishedAt: null,
        progress: { seq: 0, head: 0 },
        report: null,
        signatures: null,
        failed: false,
      };
      run = started;
      void go(started);
      return started;
    },
  };
}
