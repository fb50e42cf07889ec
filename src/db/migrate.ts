// Applies the committed drizzle-kit migrations (drizzle/) to either store. Idempotent: drizzle records
// applied migrations in drizzle.__drizzle_migrations, so start-up and `cephgate migrate` can both call it.
// Says how many it applied, so `cephgate migrate` can tell "applied 3" from "already up to date".

import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'drizzle-orm';
import type { NodePgDatabase } from 'drizzle-orm/node-postgres';
import { migrate as migratePg } from 'drizzle-orm/node-postgres/migrator';
import type { PgliteDatabase } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import type { Database, Schema } from './database.ts';

/** drizzle/ sits at the package root: found by walking up, so it works from src/ (tsx) and dist/src/. */
export function migrationsFolder(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const candidate = join(dir, 'drizzle');
    if (existsSync(join(candidate, 'meta', '_journal.json'))) return candidate;
    dir = dirname(dir);
  }
  throw new Error('drizzle migrations folder not found');
}

export interface MigrationReport {
  /** Migrations applied by this call. */
  readonly applied: number;
  /** Migrations the package ships (drizzle/meta/_journal.json). */
  readonly total: number;
}

/** Rows of drizzle's bookkeeping table; 0 before the first migration created it. */
export async function appliedMigrations(database: Database): Promise<number> {
  try {
    const r = (await database.db.execute(sql`select count(*)::int as n from drizzle.__drizzle_migrations`)) as unknown as { rows: { n: number }[] };
    return Number(r.rows[0]?.n ?? 0);
  } catch {
    return 0;
  }
}

/** How many migrations the package ships. */
export function shippedMigrations(folder: string = migrationsFolder()): number {
  return (JSON.parse(readFileSync(join(folder, 'meta', '_journal.json'), 'utf8')) as { entries: unknown[] }).entries.length;
}

export async function migrateDatabase(database: Database, folder: string = migrationsFolder()): Promise<MigrationReport> {
  const before = await appliedMigrations(database);
  if (database.kind === 'postgres') {
    await migratePg(database.db as unknown as NodePgDatabase<Schema>, { migrationsFolder: folder });
  } else {
    await migratePglite(database.db as unknown as PgliteDatabase<Schema>, { migrationsFolder: folder });
  }
  return { applied: Math.max(0, (await appliedMigrations(database)) - before), total: shippedMigrations(folder) };
}
