// The audit CLI verbs (`cephgate migrate`, `audit verify|export|prune`) as functions the CLI wires:
// each opens the database, does one job, prints one line per error and returns the exit code.

import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { type Database, type DatabaseOptions, openDatabase } from '../db/database.ts';
import { migrateDatabase } from '../db/migrate.ts';
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
const msgOf = (err: unknown) => (err instanceof Error ? err.message : String(err));

async function withDatabase(opts: DbCliOptions, what: string, fn: (d: Database) => Promise<number>): Promise<number> {
  let d: Database;
  try {
    d = await openDatabase({ ...opts, connectTimeoutMs: opts.connectTimeoutMs ?? 5000, queryTimeoutMs: opts.queryTimeoutMs ?? 0 });
  } catch (err) {
    errLine(opts, `${what}: cannot open the database: ${msgOf(err)}`);
    return EXIT.error;
  }
  try {
    return await fn(d);
  } catch (err) {
    errLine(opts, `${what}: ${msgOf(err)}`);
    return EXIT.error;
  } finally {
    await d.close().catch(() => undefined);
  }
}

export function runMigrations(opts: DbCliOptions): Promise<number> {
  return withDatabase(opts, 'migrate', async (d) => {
    await migrateDatabase(d);
    outLine(opts, `migrate: ${d.kind} database is up to date`);
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

export function auditPrune(opts: DbCliOptions & { readonly retentionDays: number; readonly keyFile?: string; readonly now?: Date }): Promise<number> {
  return withDatabase(opts, 'audit prune', async (d) => {
    if (opts.retentionDays <= 0) {
      outLine(opts, 'audit prune: retention_days is 0 (keep forever); nothing pruned');
      return EXIT.ok;
    }
    const key = opts.keyFile === undefined ? null : loadCheckpointKey(opts.keyFile).privateKey;
    const olderThan = new Date((opts.now ?? new Date()).getTime() - opts.retentionDays * 86400000);
    const r = await pruneAudit(d.db, { olderThan, key });
    outLine(
      opts,
      `audit prune: removed ${r.intentsDeleted} records and ${r.outcomesDeleted} outcomes older than ${olderThan.toISOString()} (chain through seq ${r.throughSeq})`,
    );
    return EXIT.ok;
  });
}
