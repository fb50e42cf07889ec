// Server-side sessions of Ceph-native logins: gateway token -> the user's own Ceph token. In memory, keyed
// by the SHA-256 of the gateway token (a heap dump or log of keys never yields a usable token).
//
// Several gateway instances do not share this map: put them behind sticky sessions, or let clients log in
// again when they reach another instance (the Ceph answer is then 401 invalid_token, as for an expired one).

import { createHash, randomBytes } from 'node:crypto';
import { decodeJwt } from 'jose';

/** Gateway tokens start with this, so the chain routes them here and not to the JWT authenticator. */
export const NATIVE_TOKEN_PREFIX = 'cgn_';
const TOKEN_SHAPE = /^cgn_[A-Za-z0-9_-]{43}$/;

export interface NativeSession {
  /** First 12 hex of the token hash: safe to log, names the session. */
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

export type NewSession = Omit<NativeSession, 'id' | 'createdAt' | 'expiresAt'>;

export interface NativeSessionStore {
  /** Stores the session and returns the gateway token, the only copy of which goes to the client. */
  create(s: NewSession, ttlMs: number): { token: string; session: NativeSession };
  /** The live session of a gateway token, or null (unknown, malformed, expired or revoked). */
  get(token: string): NativeSession | null;
  /** Revokes the session of a token; returns it when it was live. */
  revoke(token: string): NativeSession | null;
  /** The live session with this id, or null. */
  byId(id: string): NativeSession | null;
  /** Revokes by session id (Ceph refused its token: the session cannot come back without a password). */
  revokeId(id: string): void;
  readonly size: number;
}

export const isNativeToken = (token: string): boolean => token.startsWith(NATIVE_TOKEN_PREFIX);

const hashOf = (token: string): string => createHash('sha256').update(token).digest('hex');

/** The Ceph token's own expiry (ms), or null when it is not a readable JWT. */
export function cephTokenExpiry(cephToken: string): number | null {
  try {
    const { exp } = decodeJwt(cephToken);
    return typeof exp === 'number' ? exp * 1000 : null;
  } catch {
    return null;
  }
}

export function createNativeSessionStore(opts: { maxSessions: number; now?: () => number }): NativeSessionStore {
  const now = opts.now ?? Date.now;
  // Insertion order = creation order, so the first key is the oldest (evicted beyond maxSessions).
  const byHash = new Map<string, NativeSession>();
  const hashById = new Map<string, string>();

  const drop = (hash: string) => {
    const s = byHash.get(hash);
    if (s === undefined) return null;
    byHash.delete(hash);
    hashById.delete(s.id);
    return s;
  };

  return {
    create(fields, ttlMs) {
      const token = NATIVE_TOKEN_PREFIX + randomBytes(32).toString('base64url');
      const hash = hashOf(token);
      const t = now();
      // A gateway token never outlives the Ceph token behind it: there is no password to log in again.
      const cephExp = cephTokenExpiry(fields.cephToken);
      const session: NativeSession = { ...fields, id: hash.slice(0, 12), createdAt: t, expiresAt: Math.min(t + ttlMs, cephExp ?? Number.POSITIVE_INFINITY) };
      byHash.set(hash, session);
      hashById.set(session.id, hash);
      // Expired sessions nobody asks for again: sessions are roughly in expiry order, drop them from the front.
      for (const [h, old] of byHash) {
        if (t < old.expiresAt) break;
        drop(h);
      }
      while (byHash.size > opts.maxSessions) {
        const oldest = byHash.keys().next().value;
        if (oldest === undefined) break;
        drop(oldest);
      }
      return { token, session };
    },
    get(token) {
      if (!TOKEN_SHAPE.test(token)) return null;
      const hash = hashOf(token);
      const s = byHash.get(hash);
      if (s === undefined) return null;
      if (now() >= s.expiresAt) {
        drop(hash);
        return null;
      }
      return s;
    },
    revoke(token) {
      if (!TOKEN_SHAPE.test(token)) return null;
      const s = drop(hashOf(token));
      return s !== null && now() < s.expiresAt ? s : null;
    },
    byId(id) {
      const hash = hashById.get(id);
      const s = hash === undefined ? undefined : byHash.get(hash);
      if (s === undefined || hash === undefined) return null;
      if (now() >= s.expiresAt) {
        drop(hash);
        return null;
      }
      return s;
    },
    revokeId(id) {
      const hash = hashById.get(id);
      if (hash !== undefined) drop(hash);
    },
    get size() {
      return byHash.size;
    },
  };
}
