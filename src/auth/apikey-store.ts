// Persistence of API keys in the `api_keys` table (drizzle; Postgres or PGlite). Rows hold the
// sha-256 of the secret, never the secret. No cache here: revocation must act on the next request.

import { eq, or } from 'drizzle-orm';
import type { Db } from '../db/database.ts';
import { type ApiKeyRow, apiKeys, type NewApiKeyRow } from '../db/schema.ts';

export interface ApiKeyStore {
  insert(row: NewApiKeyRow): Promise<void>;
  findById(id: string): Promise<ApiKeyRow | undefined>;
  list(): Promise<ApiKeyRow[]>;
  /** Revokes by id or name; false when no such key. Revoking twice keeps the first time. */
  revoke(idOrName: string, at: Date): Promise<boolean>;
  touch(id: string, at: Date): Promise<void>;
}

export function createApiKeyStore(db: Db): ApiKeyStore {
  return {
    async insert(row) {
      await db.insert(apiKeys).values(row);
    },
    async findById(id) {
      const rows = await db.select().from(apiKeys).where(eq(apiKeys.id, id)).limit(1);
      return rows[0];
    },
    async list() {
      return db.select().from(apiKeys).orderBy(apiKeys.createdAt);
    },
    async revoke(idOrName, at) {
      const rows = await db
        .select({ id: apiKeys.id, revokedAt: apiKeys.revokedAt })
        .from(apiKeys)
        .where(or(eq(apiKeys.id, idOrName), eq(apiKeys.name, idOrName)))
        .limit(1);
      const row = rows[0];
      if (row === undefined) return false;
      if (row.revokedAt === null) await db.update(apiKeys).set({ revokedAt: at }).where(eq(apiKeys.id, row.id));
      return true;
    },
    async touch(id, at) {
      await db.update(apiKeys).set({ lastUsedAt: at }).where(eq(apiKeys.id, id));
    },
  };
}
