// Server-side browser sessions in the `sessions` table. The row id is sha-256 of the cookie value, so a
// copy of the table cannot be replayed as cookies; the refresh token is sealed (AES-256-GCM) at rest.

import { createHash, randomBytes } from 'node:crypto';
import { eq } from 'drizzle-orm';
import type { Principal } from '../../core/principal.ts';
import type { Db } from '../../db/database.ts';
import { type SessionRow, sessions } from '../../db/schema.ts';

export const sessionRowId = (cookieValue: string): string => createHash('sha256').update(cookieValue, 'utf8').digest('hex');

export interface NewSession {
  readonly principal: Principal;
  readonly expiresAt: Date;
  readonly refreshTokenEnc: string | null;
  readonly idTokenHint: string | null;
  readonly now: Date;
}

export interface BrowserSessionStore {
  /** Creates a session and returns the cookie value (32 random bytes) and its row. */
  create(s: NewSession, seal: (rowId: string) => string | null): Promise<{ cookie: string; row: SessionRow }>;
  find(cookieValue: string): Promise<SessionRow | undefined>;
  update(rowId: string, patch: { principal: Principal; refreshTokenEnc: string | null; idTokenHint?: string | null; groupsRefreshedAt: Date }): Promise<void>;
  end(rowId: string, at: Date): Promise<void>;
}

export const principalToJson = (p: Principal): Record<string, unknown> => ({ ...p, authenticatedAt: p.authenticatedAt.toISOString() });

export function principalFromJson(j: Record<string, unknown>): Principal {
  return { ...(j as unknown as Principal), authenticatedAt: new Date(String(j.authenticatedAt)) };
}

export function createBrowserSessionStore(db: Db): BrowserSessionStore {
  return {
    async create(s, sealFor) {
      const cookie = randomBytes(32).toString('base64url');
      const id = sessionRowId(cookie);
      const row: SessionRow = {
        id,
        principal: principalToJson(s.principal),
        createdAt: s.now,
        expiresAt: s.expiresAt,
        refreshTokenEnc: sealFor(id),
        idTokenHint: s.idTokenHint,
        groupsRefreshedAt: s.now,
        csrfToken: randomBytes(32).toString('base64url'),
        endedAt: null,
      };
      await db.insert(sessions).values(row);
      return { cookie, row };
    },
    async find(cookieValue) {
      const rows = await db
        .select()
        .from(sessions)
        .where(eq(sessions.id, sessionRowId(cookieValue)))
        .limit(1);
      return rows[0];
    },
    async update(rowId, patch) {
      await db
        .update(sessions)
        .set({
          principal: principalToJson(patch.principal),
          refreshTokenEnc: patch.refreshTokenEnc,
          groupsRefreshedAt: patch.groupsRefreshedAt,
          ...(patch.idTokenHint === undefined ? {} : { idTokenHint: patch.idTokenHint }),
        })
        .where(eq(sessions.id, rowId));
    },
    async end(rowId, at) {
      await db.update(sessions).set({ endedAt: at, refreshTokenEnc: null }).where(eq(sessions.id, rowId));
    },
  };
}
