// Configuration of the audit store: Postgres when a URL is given, else embedded PGlite.

import { z } from 'zod';

export const auditConfigSchema = z
  .object({
    /** Postgres URL; when unset (and DATABASE_URL is unset) the embedded PGlite store is used. */
    database_url_env: z.string().optional(),
    database_url_file: z.string().optional(),
    database_url: z.string().optional(),
    pglite_dir: z.string().default('./.cephgate/audit'),
    migrate_on_start: z.boolean().default(true),
    record_reads: z.boolean().default(false),
  })
  .strict()
  .default({ pglite_dir: './.cephgate/audit', migrate_on_start: true, record_reads: false });
export type AuditConfig = z.infer<typeof auditConfigSchema>;
