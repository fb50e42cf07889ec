// The audit CLI verbs (`cephgate migrate`, `audit verify|export|prune`) as functions the CLI wires:
// each opens the database, does one job, prints one line per error (what happened and what to do,
// config/check-explain.ts) and returns the exit code.

import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { count, eq, gte, lte, min } from 'drizzle-orm';
import { describeError } from '../config/check-explain.ts';
import { databaseLabel, holdPglite } from '../config/database-url.ts';
import { type Database, type DatabaseOptions, openDatabase } from '../db/database.ts';
import { migrateDatabase } from '../db/migrate.ts';
import { auditChainHead, auditIntents, auditOutcomes } from '../db/schema.ts';
import { loadCheckpointKey, verifyCheckpointSignatures } from './checkpoint.ts';
import { type ExportFormat, exportStream } from './export.ts';
import { pruneAudit } from './prune.ts';
import type { AuditFilter } from './query.ts';
import { verifyChain } from './verify.ts';

/** Exit codes: 0 done, 1 the check failed (broken chain, bad signature), 2 the command could not run. */
export const EXIT = { ok: 0, failed: 1, error: 2 } as const;

export interface CliIo {
  readonly stdout?: Writable;
  readonly stderr?: Writable & { isTTY?: boolean };
}

export type DbCliOptions = DatabaseOptions & CliIo;

const errLine = (io: CliIo, msg: string) => (io.stderr ?? process.stderr).write(`cephgate: ${msg.replaceAll('\n', ' ')}\n`);
const outLine = (io: CliIo, msg: string) => (io.stdout ?? process.stdout).write(`${msg}\n`);

/** Opens the database for one command (holding a PGlite directory so a running gateway's is never opened twice), runs `fn`, closes. */
export async function withDatabase(opts: DbCliOptions, what: string, fn: (d: Database) => Promise<number>): Promise<number> {
  const where = databaseLabel(opts);
  let hold: { release(): void } | null = null;
  let d: Database;
  try {
    if (opts.url === undefined && opts.pgliteDir !== undefined) hold = holdPglite(opts.pgliteDir, what);
    d = await openDatabase({ ...opts, connectTimeoutMs: opts.connectTimeoutMs ?? 5000, queryTimeoutMs: opts.queryTimeoutMs ?? 0 });
  } catch (err) {
    hold?.release();
    errLine(opts, `${what}: cannot open the database (${where}): ${describeError(err, { service: 'database', endpoint: where })}`);
    return EXIT.error;
  }
  try {
    return await fn(d);
  } catch (err) {
    errLine(opts, `${what}: ${describeError(err, { service: 'database', endpoint: where })}`);
    return EXIT.error;
  } finally {
    await d.close().catch(() => undefined);
    hold?.release();
  }
}

export function runMigrations(opts: DbCliOptions & { readonly source?: string }): Promise<number> {
  return withDatabase(opts, 'migrate', async (d) => {
    const r = await migrateDatabase(d);
    const from = opts.source === undefined ? '' : ` (configuration: ${opts.source})`;
    const did = r.applied === 0 ? `already up to date (${r.total} migrations)` : `applied ${r.applied} of ${r.total} migrations`;
    outLine(opts, `migrate: ${databaseLabel(opts)}${from}: ${did}`);
    return EXIT.ok;
  });
}

export function auditVerify(opts: DbCliOptions & { readonly keyFile?: string }): Promise<number> {
  return withDatabase(opts, 'audit verify', async (d) => {
    const r = await verifyChain(d.db);
    if (!r.ok && r.firstBroken) {
      const b = r.firstBroken;
      outLine(opts, `audit verify: BROKEN at seq ${b.seq} (${b.kind}${b.recordId ? ` ${b.recordId}` : ''}): ${b.reason}; ${r.checked} events intact before it`);
      return EXIT.failed;
    }
    let sigs = '';
    if (opts.keyFile !== undefined) {
      const c = await verifyCheckpointSignatures(d.db, loadCheckpointKey(opts.keyFile).publicKey, r.fromSeq);
      if (c.firstBad) {
        outLine(opts, `audit verify: checkpoint ${c.firstBad.id} (seq ${c.firstBad.seq}) has an invalid signature`);
        return EXIT.failed;
      }
      sigs = `; ${c.checked} signed checkpoints valid, ${c.unsigned} unsigned`;
    }
    outLine(opts, `audit verify: chain intact, ${r.checked} events from seq ${r.fromSeq + 1} to ${r.headSeq}${sigs}`);
    return EXIT.ok;
  });
}

export function auditExport(
  opts: DbCliOptions & { readonly format: ExportFormat; readonly filter?: AuditFilter; readonly progress?: boolean },
  out: Writable,
): Promise<number> {
  return withDatabase(opts, 'audit export', async (d) => {
    const tty = opts.progress !== false && (opts.stderr ?? process.stderr).isTTY === true;
    const t0 = Date.now();
    let rows = 0;
    const onRow = (n: number) => {
      rows = n;
      // A progress line on a terminal only: piped stderr stays clean for scripts.
      if (tty && n % 10000 === 0)
        (opts.stderr ?? process.stderr).write(`\r  exported ${n} records (${Math.round(n / Math.max((Date.now() - t0) / 1000, 0.001))}/s)`);
    };
    await pipeline(exportStream(d.db, opts.filter ?? {}, opts.format, onRow), out, { end: out !== process.stdout });
    if (tty) (opts.stderr ?? process.stderr).write(`\r  exported ${rows} records in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
    return EXIT.ok;
  });
}

export function auditPrune(
  opts: DbCliOptions & { readonly retentionDays: number; readonly keyFile?: string; readonly now?: Date; readonly dryRun?: boolean },
): Promise<number> {
  return withDatabase(opts, 'audit prune', async (d) => {
    const olderThan = new Date((opts.now ?? new Date()).getTime() - opts.retentionDays * 86400000);
    if (opts.dryRun === true) {
      const r = await pruneCandidates(d, olderThan);
      outLine(
        opts,
        `audit prune --dry-run: would remove ${r.intents} records and ${r.outcomes} outcomes older than ${olderThan.toISOString()} (chain through seq ${r.throughSeq}); nothing removed`,
      );
      return EXIT.ok;
    }
    const key = opts.keyFile === undefined ? null : loadCheckpointKey(opts.keyFile).privateKey;
    const r = await pruneAudit(d.db, { olderThan, key });
    outLine(
      opts,
      `audit prune: removed ${r.intentsDeleted} records and ${r.outcomesDeleted} outcomes older than ${olderThan.toISOString()} (chain through seq ${r.throughSeq})`,
    );
    return EXIT.ok;
  });
}

/**
 * What `pruneAudit` would remove, counted without removing: the same chain prefix (up to the event before
 * the first intent received at or after the cutoff; audit/prune.ts says why). The CLI test compares it
 * with a real prune so the two cannot drift apart.
 */
async function pruneCandidates(d: Database, olderThan: Date): Promise<{ throughSeq: number; intents: number; outcomes: number }> {
  const [head] = await d.db.select({ seq: auditChainHead.seq }).from(auditChainHead).where(eq(auditChainHead.id, 1));
  if (head === undefined) throw new Error('audit chain head missing: run `cephgate migrate`');
  const [first] = await d.db
    .select({ seq: min(auditIntents.seq) })
    .from(auditIntents)
    .where(gte(auditIntents.receivedAt, olderThan));
  const through = first?.seq == null ? Number(head.seq) : Number(first.seq) - 1;
  if (through <= 0) return { throughSeq: 0, intents: 0, outcomes: 0 };
  const [i] = await d.db.select({ n: count() }).from(auditIntents).where(lte(auditIntents.seq, through));
  const [o] = await d.db.select({ n: count() }).from(auditOutcomes).where(lte(auditOutcomes.seq, through));
  return { throughSeq: through, intents: Number(i?.n ?? 0), outcomes: Number(o?.n ?? 0) };
}
