// Server-side sessions of Ceph-native logins: gateway token -> the user's own Ceph token, in the
// `native_sessions` table, so a token issued by one gateway instance works on every other one and a
// logout anywhere ends it everywhere (on the next request: no instance caches a session).
//
// A row is keyed by the SHA-256 of the gateway token (a copy of the table never yields a usable token),
// and the Ceph token in it is sealed (AES-256-GCM) with the sessions key, bound to that row, exactly as
// browser refresh tokens are (auth/browser/seal.ts). A row sealed with another key (an instance started
// without the shared key) reads as no session: refused, never decrypted into garbage.

import { createHash, randomBytes } from 'node:crypto';
import { and, desc, eq, gt, inArray, lte } from 'drizzle-orm';
import { decodeJwt } from 'jose';
import type { Db } from '../../db/database.ts';
import { type NativeSessionRow, nativeSessions } from '../../db/schema.ts';
import { seal, unseal } from '../browser/seal.ts';

/** Gateway tokens start with this, so the chain routes them here and not to the JWT authenticator. */
export const NATIVE_TOKEN_PREFIX = 'cgn_';
const TOKEN_SHAPE = /^cgn_[A-Za-z0-9_-]{43}$/;

export interface NativeSession {
  /** The SHA-256 hex of the gateway token: the row key (never the token). */
  readonly key: string;
  /** First 12 hex of the key: safe to log, names the session. */
  readonly id: string;
  readonly cluster: string;
  readonly username: string;
  /** The user's Ceph JWT. Never logged, never sent to the client. */
  readonly cephToken: string;
  readonly createdAt: number;
  readonly expiresAt: number;
  /** What Ceph answered at login (kept for /api/auth/check without asking Ceph again when it is down). */
  readonly permissions: Readonly<Record<string, readonly string[]>>;
  readonly pwdExpirationDate: number | null;
  readonly sso: boolean;
  readonly pwdUpdateRequired: boolean;
}

export type NewSession = Omit<NativeSession, 'key' | 'id' | 'createdAt' | 'expiresAt'>;

export interface NativeSessionStore {
  /** Stores the session and returns the gateway token, the only copy of which goes to the client. */
  create(s: NewSession, ttlMs: number): Promise<{ token: string; session: NativeSession }>;
  /** The live session of a gateway token, or null (unknown, malformed, expired, revoked, or sealed with another key). */
  get(token: string): Promise<NativeSession | null>;
  /** Revokes the session of a token; returns it when it was live. */
  revoke(token: string): Promise<NativeSession | null>;
  /** Revokes by key (Ceph refused its token: the session cannot come back without a password). */
  revokeKey(key: string): Promise<void>;
}

export interface NativeSessionStoreOptions {
  readonly db: Db;
  /** The sessions key (identity.sessions.encryption_key), 32 bytes. */
  readonly sealKey: Buffer;
  /** Live sessions kept; beyond it the oldest are ended (config native_login.max_sessions). */
  readonly maxSessions: number;
  readonly now?: () => number;
}

export const isNativeToken = (token: string): boolean => token.startsWith(NATIVE_TOKEN_PREFIX);

const hashOf = (token: string): string => createHash('sha256').update(token).digest('hex');

/** The row key of a gateway token. */
export const sessionKeyOf = hashOf;

/** Associated data of a sealed Ceph token: the ciphertext is only valid in its own row. */
const aadOf = (key: string): string => `cephgate-native-v1:${key}`;

/** The Ceph token's own expiry (ms), or null when it is not a readable JWT. */
export function cephTokenExpiry(cephToken: string): number | null {
  try {
    const { exp } = decodeJwt(cephToken);
    return typeof exp === 'number' ? exp * 1000 : null;
  } catch {
    return null;
  }
}

export function createNativeSessionStore(o: NativeSessionStoreOptions): NativeSessionStore {
  const now = o.now ?? Date.now;
  const { db } = o;

  const open = (row: NativeSessionRow): NativeSession | null => {
    const cephToken = unseal(o.sealKey, row.cephTokenEnc, aadOf(row.key));
    if (cephToken === null) return null;
    return {
      key: row.key,
      id: row.key.slice(0, 12),
      cluster: row.cluster,
      username: row.username,
      cephToken,
      createdAt: row.createdAt.getTime(),
      expiresAt: row.expiresAt.getTime(),
      permissions: row.permissions,
      pwdExpirationDate: row.pwdExpirationDate,
      sso: row.sso,
      pwdUpdateRequired: row.pwdUpdateRequired,
    };
  };

  const live = async (key: string): Promise<NativeSession | null> => {
    const rows = await db
      .select()
      .from(nativeSessions)
      .where(and(eq(nativeSessions.key, key), gt(nativeSessions.expiresAt, new Date(now()))))
      .limit(1);
    return rows[0] === undefined ? null : open(rows[0]);
  };

  /** Expired rows, and the oldest beyond max_sessions: logins are rare (each costs a Ceph login), so at each one. */
  const sweep = async (t: number): Promise<void> => {
    await db.delete(nativeSessions).where(lte(nativeSessions.expiresAt, new Date(t)));
    const newest = db.select({ key: nativeSessions.key }).from(nativeSessions).orderBy(desc(nativeSessions.createdAt)).offset(o.maxSessions);
    await db.delete(nativeSessions).where(inArray(nativeSessions.key, newest));
  };

  return {
    async create(fields, ttlMs) {
      const token = NATIVE_TOKEN_PREFIX + randomBytes(32).toString('base64url');
      const key = hashOf(token);
      const t = now();
      // A gateway token never outlives the Ceph token behind it: there is no password to log in again.
      const cephExp = cephTokenExpiry(fields.cephToken);
      const expiresAt = Math.min(t + ttlMs, cephExp ?? Number.POSITIVE_INFINITY);
      await db.insert(nativeSessions).values({
        key,
        cluster: fields.cluster,
        username: fields.username,
        cephTokenEnc: seal(o.sealKey, fields.cephToken, aadOf(key)),
        permissions: fields.permissions as Record<string, string[]>,
        pwdExpirationDate: fields.pwdExpirationDate,
        sso: fields.sso,
        pwdUpdateRequired: fields.pwdUpdateRequired,
        createdAt: new Date(t),
        expiresAt: new Date(expiresAt),
      });
      await sweep(t);
      return { token, session: { ...fields, key, id: key.slice(0, 12), createdAt: t, expiresAt } };
    },
    async get(token) {
      if (!TOKEN_SHAPE.test(token)) return null;
      return live(hashOf(token));
    },
    async revoke(token) {
      if (!TOKEN_SHAPE.test(token)) return null;
      const rows = await db
        .delete(nativeSessions)
        .where(eq(nativeSessions.key, hashOf(token)))
        .returning();
      const row = rows[0];
      return row === undefined || row.expiresAt.getTime() <= now() ? null : open(row);
    },
    async revokeKey(key) {
      await db.delete(nativeSessions).where(eq(nativeSessions.key, key));
    },
  };
}
