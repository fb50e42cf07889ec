// Opens the gateway database: Postgres through a `pg` Pool when a URL is given, else embedded PGlite
// in a data directory ('memory://' for tests). Both return the same drizzle type, so code above is shared.

import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import pg from 'pg';
import * as schema from './schema.ts';

export type Schema = typeof schema;
export type Db = PgDatabase<PgQueryResultHKT, Schema>;

export interface DatabaseOptions {
  /** Postgres URL; when absent the embedded PGlite store is used. */
  readonly url?: string;
  /** PGlite data directory, or 'memory://'. Default 'memory://'. */
  readonly pgliteDir?: string;
  /** Pool size (Postgres). */
  readonly poolMax?: number;
  /** Give up connecting / waiting for a pooled connection after this long (Postgres). */
  readonly connectTimeoutMs?: number;
  /** Client-side bound on any query, so a hung server cannot hold a writer forever (Postgres). */
  readonly queryTimeoutMs?: number;
  /** Called with errors of idle pooled connections (e.g. the server restarted). */
  readonly onError?: (err: Error) => void;
}

export interface Database {
  readonly db: Db;
  readonly kind: 'postgres' | 'pglite';
  /** Runs `fn` in one transaction. On Postgres a connection that failed mid-transaction is destroyed,
   *  never returned to the pool (a half-dead socket would otherwise fail the next writer too). */
  transaction<T>(fn: (tx: Db) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export async function openDatabase(opts: DatabaseOptions = {}): Promise<Database> {
  if (opts.url !== undefined && opts.url !== '') {
    const pool = new pg.Pool({
      connectionString: opts.url,
      max: opts.poolMax ?? 10,
      connectionTimeoutMillis: opts.connectTimeoutMs ?? 2000,
      query_timeout: opts.queryTimeoutMs ?? 10000,
      keepAlive: true,
    });
    // Without a listener an idle client's error (server restart, pg_terminate_backend) crashes the process.
    pool.on('error', (err) => opts.onError?.(err));
    // A checked-out client has no pool listener: its connection dying would be an uncaught 'error'.
    pool.on('connect', (client) => client.on('error', (err) => opts.onError?.(err)));
    const db = drizzlePg(pool, { schema }) as unknown as Db;
    const transaction = async <T>(fn: (tx: Db) => Promise<T>): Promise<T> => {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const result = await fn(drizzlePg(client, { schema }) as unknown as Db);
        await client.query('COMMIT');
        client.release();
        return result;
      } catch (err) {
        client.release(err instanceof Error ? err : new Error(String(err))); // destroyed, not pooled
        throw err;
      }
    };
    return { db, kind: 'postgres', transaction, close: () => pool.end() };
  }
  const dir = opts.pgliteDir ?? 'memory://';
  if (!dir.startsWith('memory://')) mkdirSync(dir, { recursive: true });
  const client = await PGlite.create(dir);
  const db = drizzlePglite(client, { schema }) as unknown as Db;
  const transaction = <T>(fn: (tx: Db) => Promise<T>): Promise<T> => db.transaction((tx) => fn(tx as unknown as Db));
  return { db, kind: 'pglite', transaction, close: () => client.close() };
}
