// Configuration of the audit store: Postgres when a URL is given, else embedded PGlite; plus
// redaction, retention, checkpoint signing and the group-commit writer's bounds.

import { z } from 'zod';

const defaults = {
  pglite_dir: './.cephgate/audit',
  migrate_on_start: true,
  record_reads: false,
  retention_days: 0,
  prune_interval_minutes: 0,
  redact_extra_paths: [] as string[],
  checkpoint_interval_seconds: 300,
  batch_max: 500,
  queue_max: 20000,
  intent_timeout_ms: 2000,
  pool_max: 10,
  spool_dir: './.cephgate/spool',
  spool_max_bytes: 64 * 1048576,
};

export const auditConfigSchema = z
  .object({
    /** Postgres URL; when unset (and DATABASE_URL is unset) the embedded PGlite store is used. */
    database_url_env: z.string().optional(),
    database_url_file: z.string().optional(),
    database_url: z.string().optional(),
    pglite_dir: z.string().default(defaults.pglite_dir),
    migrate_on_start: z.boolean().default(defaults.migrate_on_start),
    record_reads: z.boolean().default(defaults.record_reads),
    /** Records older than this many days are removed by `cephgate audit prune`. 0 (default): keep forever. */
    retention_days: z.number().int().nonnegative().default(defaults.retention_days),
    /** Run the prune on a schedule in `serve` every N minutes; 0 (default): only from the CLI. */
    prune_interval_minutes: z.number().int().nonnegative().default(defaults.prune_interval_minutes),
    /** Extra dotted body paths to redact, `*` matching any key or array index (e.g. `config.*.token`). Default none. */
    redact_extra_paths: z.array(z.string().min(1)).default(defaults.redact_extra_paths),
    /** PEM PKCS#8 Ed25519 private key; when set, periodic chain checkpoints are signed (JWS EdDSA). Default unset. */
    signing_key_file: z.string().optional(),
    /** Seconds between chain checkpoints written by `serve` (signed when a key is set); 0 disables. Default 300. */
    checkpoint_interval_seconds: z.number().int().nonnegative().default(defaults.checkpoint_interval_seconds),
    /** Most audit events one group-commit transaction writes. Default 500. */
    batch_max: z.number().int().min(1).max(2000).default(defaults.batch_max),
    /** Most events waiting for a transaction; beyond it recordIntent rejects at once (-> 503). Default 20000. */
    queue_max: z.number().int().min(1).default(defaults.queue_max),
    /** recordIntent rejects when its intent is not committed within this bound (-> 503). Default 2000. */
    intent_timeout_ms: z.number().int().min(50).default(defaults.intent_timeout_ms),
    /** Postgres connection pool size (writer + audit queries). Default 10. */
    pool_max: z.number().int().min(2).default(defaults.pool_max),
    /**
     * Local directory (per instance, writable) where the records of refused requests wait while the
     * audit database is down; they are appended to the chain when it is back. Default ./.cephgate/spool.
     */
    spool_dir: z.string().min(1).default(defaults.spool_dir),
    /** Most bytes the spool holds; refusals beyond it are logged, counted and not recorded. 0 turns the spool off. Default 64 MiB. */
    spool_max_bytes: z.number().int().nonnegative().default(defaults.spool_max_bytes),
  })
  .strict()
  .default(defaults);
