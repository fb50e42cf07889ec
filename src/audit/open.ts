// Builds the audit store from the `audit` config section: picks Postgres or PGlite, migrates when
// configured, and starts the optional checkpoint and prune schedules. Called once at start-up.

import { resolveSecret, secretRefOf } from '../config/secrets.ts';
import { type DatabaseOptions, openDatabase } from '../db/database.ts';
import { migrateDatabase } from '../db/migrate.ts';
import { loadCheckpointKey, startCheckpoints } from './checkpoint.ts';
import type { AuditConfig } from './config.ts';
import { pruneAudit } from './prune.ts';
import { createRedactor } from './redact.ts';
import { type AuditStore, createAuditStore } from './store.ts';

/** Where the database is: `audit.database_url` (or its _env/_file form), else DATABASE_URL, else PGlite. */
export function databaseOptionsFromConfig(cfg: AuditConfig, env: NodeJS.ProcessEnv): DatabaseOptions {
  const ref = secretRefOf(cfg as Record<string, unknown>, 'database_url');
  const url = ref.value !== undefined || ref.env !== undefined || ref.file !== undefined ? resolveSecret(ref, 'audit.database_url', env) : env.DATABASE_URL;
  const base = { poolMax: cfg.pool_max, connectTimeoutMs: cfg.intent_timeout_ms };
  return url !== undefined && url !== '' ? { ...base, url } : { ...base, pgliteDir: cfg.pglite_dir };
}

export async function openAuditStore(cfg: AuditConfig, env: NodeJS.ProcessEnv, opts: { readonly onError?: (err: unknown) => void } = {}): Promise<AuditStore> {
  const database = await openDatabase({ ...databaseOptionsFromConfig(cfg, env), ...(opts.onError ? { onError: opts.onError } : {}) });
  try {
    if (cfg.migrate_on_start) await migrateDatabase(database);
    const keys = cfg.signing_key_file === undefined ? null : loadCheckpointKey(cfg.signing_key_file);
    const store = createAuditStore(database, {
      redactor: createRedactor({ extraPaths: cfg.redact_extra_paths }),
      batchMax: cfg.batch_max,
      queueMax: cfg.queue_max,
      timeoutMs: cfg.intent_timeout_ms,
      ownsDatabase: true,
      ...(opts.onError ? { onError: opts.onError } : {}),
    });
    const stops: (() => void)[] = [];
    if (cfg.checkpoint_interval_seconds > 0) {
      stops.push(startCheckpoints(database.db, { intervalMs: cfg.checkpoint_interval_seconds * 1000, key: keys?.privateKey ?? null, ...(opts.onError ? { onError: opts.onError } : {}) }));
    }
    if (cfg.prune_interval_minutes > 0 && cfg.retention_days > 0) {
      const timer = setInterval(() => {
        pruneAudit(database.db, { olderThan: new Date(Date.now() - cfg.retention_days * 86400000), key: keys?.privateKey ?? null }).catch((err: unknown) => opts.onError?.(err));
      }, cfg.prune_interval_minutes * 60000);
      timer.unref();
      stops.push(() => clearInterval(timer));
    }
    return {
      ...store,
      close: async () => {
        for (const stop of stops) stop();
        await store.close();
      },
    };
  } catch (err) {
    await database.close();
    throw err;
  }
}
