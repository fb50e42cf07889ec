// Server-side browser sessions in the `sessions` table. The row id is sha-256 of the cookie value, so a
// copy of the table cannot be replayed as cookies; the refresh token is sealed (AES-256-GCM) at rest.
// Group refreshes are compare-and-swap on the row's refresh generation, so that of several instances
// refreshing one session at once exactly one uses the (rotating) refresh token.

import { createHash, randomBytes } from 'node:crypto';
import { and, eq, isNull, lt, or } from 'drizzle-orm';
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
  /** The row by its id (a re-read while another instance refreshes it). */
  findById(rowId: string): Promise<SessionRow | undefined>;
  /**
   * Takes the right to refresh a session at `generation` until `until`: true for exactly one caller while
   * the generation is unchanged and no unexpired lease is held (an instance that died loses it at `until`).
   */
  claimRefresh(rowId: string, generation: number, until: Date, at: Date): Promise<boolean>;
  /** Writes a refresh made from `generation` and moves to the next; undefined when the generation moved on meanwhile. */
  completeRefresh(rowId: string, generation: number, patch: RefreshPatch): Promise<SessionRow | undefined>;
  /** Ends the session when it is still at `generation` (a refresh from it failed; a newer one may have succeeded). */
  endAtGeneration(rowId: string, generation: number, at: Date): Promise<void>;
  end(rowId: string, at: Date): Promise<void>;
}

export interface RefreshPatch {
  readonly principal: Principal;
  readonly refreshTokenEnc: string | null;
  readonly idTokenHint?: string | null;
  readonly groupsRefreshedAt: Date;
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
        refreshGeneration: 0,
        refreshLeaseUntil: null,
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
    async findById(rowId) {
      const rows = await db.select().from(sessions).where(eq(sessions.id, rowId)).limit(1);
      return rows[0];
    },
    async claimRefresh(rowId, generation, until, at) {
      const rows = await db
        .update(sessions)
        .set({ refreshLeaseUntil: until })
        .where(
          and(
            eq(sessions.id, rowId),
            eq(sessions.refreshGeneration, generation),
            isNull(sessions.endedAt),
            or(isNull(sessions.refreshLeaseUntil), lt(sessions.refreshLeaseUntil, at)),
          ),
        )
        .returning({ id: sessions.id });
      return rows.length === 1;
    },
    async completeRefresh(rowId, generation, patch) {
      const rows = await db
        .update(sessions)
        .set({
          principal: principalToJson(patch.principal),
          refreshTokenEnc: patch.refreshTokenEnc,
          groupsRefreshedAt: patch.groupsRefreshedAt,
          refreshGeneration: generation + 1,
          refreshLeaseUntil: null,
          ...(patch.idTokenHint === undefined ? {} : { idTokenHint: patch.idTokenHint }),
        })
        .where(and(eq(sessions.id, rowId), eq(sessions.refreshGeneration, generation), isNull(sessions.endedAt)))
        .returning();
      return rows[0];
    },
    async endAtGeneration(rowId, generation, at) {
      await db
        .update(sessions)
        .set({ endedAt: at, refreshTokenEnc: null, refreshLeaseUntil: null })
        .where(and(eq(sessions.id, rowId), eq(sessions.refreshGeneration, generation)));
    },
    async end(rowId, at) {
      await db.update(sessions).set({ endedAt: at, refreshTokenEnc: null }).where(eq(sessions.id, rowId));
    },
  };
}
