// The audit side of the composition root: the database (Postgres when a URL is configured, else the
// embedded PGlite directory, held by this process alone), the store with its refusal spool, and the
// periodic jobs (checkpoints, retention). Built once at start-up.

import { loadCheckpointKey, startCheckpoints } from '../audit/checkpoint.ts';
import { pruneAudit } from '../audit/prune.ts';
import { createRedactor } from '../audit/redact.ts';
import { openRefusalSpool, type RefusalSpool } from '../audit/spool.ts';
import { type AuditStore, createAuditStore } from '../audit/store.ts';
import { databaseLocation, holdPglite } from '../config/database-url.ts';
import type { Config } from '../config/schema.ts';
import type { Logger } from '../core/logger.ts';
import { type Database, openDatabase } from '../db/database.ts';
import { migrateDatabase } from '../db/migrate.ts';

export interface AuditSetup {
  readonly database: Database;
  readonly audit: AuditStore;
  readonly spool: RefusalSpool | null;
  /** Stops the jobs and closes the store (and with it the database). */
  close(): Promise<void>;
}

export async function setUpAudit(config: Config, log: Logger): Promise<AuditSetup> {
  const a = config.audit;
  const location = databaseLocation(config);
  // PGlite has no lock of its own: a second process on the directory (a CLI command, another serve) would corrupt it.
  const hold = 'pgliteDir' in location ? holdPglite(location.pgliteDir, 'serve') : null;
  let database: Database;
  try {
    database = await openDatabase({ ...location, poolMax: a.pool_max, onError: (err) => log.warn({ err }, 'database connection error') });
  } catch (err) {
    hold?.release();
    throw err;
  }
  if (a.migrate_on_start) {
    const m = await migrateDatabase(database);
    if (m.applied > 0) log.info({ applied: m.applied, total: m.total }, 'database migrations applied');
  }
  const spool = a.spool_max_bytes > 0 ? await openRefusalSpool({ dir: a.spool_dir, maxBytes: a.spool_max_bytes }) : null;
  const audit = createAuditStore(database, {
    redactor: createRedactor({ extraPaths: a.redact_extra_paths }),
    batchMax: a.batch_max,
    queueMax: a.queue_max,
    timeoutMs: a.intent_timeout_ms,
    ownsDatabase: true,
    onError: (err) => log.error({ err }, 'audit write failed'),
    ...(spool ? { spool } : {}),
  });
  // Refusals spooled by an earlier run (or a process that died) go into the chain now.
  void audit.replaySpool().then((n) => n > 0 && log.warn({ records: n }, 'spooled audit records of refused requests appended to the chain'));
  const stopJobs = startAuditJobs(config, audit, log);
  return {
    database,
    audit,
    spool,
    async close() {
      stopJobs();
      await audit.close();
      hold?.release();
    },
  };
}

/** Periodic chain checkpoints (signed when a key is configured) and scheduled retention, when configured. */
function startAuditJobs(config: Config, audit: AuditStore, log: Logger): () => void {
  const a = config.audit;
  const key = a.signing_key_file ? loadCheckpointKey(a.signing_key_file).privateKey : null;
  const stops: (() => void)[] = [];
  if (a.checkpoint_interval_seconds > 0) {
    stops.push(
      startCheckpoints(audit.db, { intervalMs: a.checkpoint_interval_seconds * 1000, key, onError: (err) => log.warn({ err }, 'audit checkpoint failed') }),
    );
  }
  if (a.prune_interval_minutes > 0 && a.retention_days > 0) {
    const timer = setInterval(() => {
      const olderThan = new Date(Date.now() - a.retention_days * 86_400_000);
      pruneAudit(audit.db, { olderThan, key }).then(
        (r) => log.info({ removed: r.intentsDeleted, outcomes: r.outcomesDeleted, older_than: olderThan.toISOString() }, 'audit retention applied'),
        (err: unknown) => log.warn({ err }, 'audit prune failed'),
      );
    }, a.prune_interval_minutes * 60_000);
    timer.unref();
    stops.push(() => clearInterval(timer));
  }
  return () => {
    for (const stop of stops) stop();
  };
}
