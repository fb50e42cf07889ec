// API keys for automation: `cgk_<id>_<secret>`, shown once, stored as sha-256 of the secret, looked up by
// id, compared in constant time; expiry, throttled last-used writes, revocation effective at once.

import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { ApiKeysConfig } from '../config/identity.ts';
import { errorCodes } from '../core/errors.ts';
import type { AuthInput, AuthResult, Principal } from '../core/principal.ts';
import type { ApiKeyStore } from './apikey-store.ts';
import type { DetectingAuthenticator } from './chain.ts';
import { readAuthorization } from './credentials.ts';

/** id: 12 lower-case hex chars (public); secret: 32 random bytes, base64url (43 chars). */
const KEY_FORMAT = /^cgk_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;

export interface ParsedApiKey {
  readonly id: string;
  readonly secret: string;
}

/** A caller mistake in create input; its message names only the offending input and is safe to return. */
export class ApiKeyInputError extends Error {
  override readonly name = 'ApiKeyInputError';
}

/** Postgres unique_violation (23505), as pg or PGlite report it, possibly wrapped by drizzle. */
/** SQLSTATE 23505 anywhere in the cause chain (drizzle wraps the driver's error). */
export const isUniqueViolation = (err: unknown): boolean => errorCodes(err).includes('23505');

export function parseApiKey(key: string): ParsedApiKey | null {
  const m = KEY_FORMAT.exec(key);
  return m === null ? null : { id: m[1] as string, secret: m[2] as string };
}

export const hashSecret = (secret: string): string => createHash('sha256').update(secret, 'utf8').digest('hex');

/** Constant-time comparison of two hex digests (crypto.timingSafeEqual needs equal lengths). */
export function digestsEqual(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && x.length > 0 && timingSafeEqual(x, y);
}

export function generateApiKey(): { id: string; prefix: string; key: string; hash: string } {
  const id = randomBytes(6).toString('hex');
  const secret = randomBytes(32).toString('base64url');
  return { id, prefix: `cgk_${id}`, key: `cgk_${id}_${secret}`, hash: hashSecret(secret) };
}

/** `90d`, `12h`, `30m` or an ISO date; bounded by the configured maximum lifetime. */
export function parseExpiry(expires: string | undefined, now: Date, maxLifetimeDays: number): Date {
  const max = new Date(now.getTime() + maxLifetimeDays * 86_400_000);
  if (expires === undefined) return max;
  const m = /^(\d{1,5})([dhm])$/.exec(expires);
  const at = m !== null ? new Date(now.getTime() + Number(m[1]) * { d: 86_400_000, h: 3_600_000, m: 60_000 }[m[2] as 'd' | 'h' | 'm']) : new Date(expires);
  if (Number.isNaN(at.getTime())) throw new ApiKeyInputError('expires must look like 90d, 12h, 30m or an ISO date');
  if (at <= now) throw new ApiKeyInputError('expires must be in the future');
  if (at > max) throw new ApiKeyInputError(`expires must be within ${maxLifetimeDays} days`);
  return at;
}

export interface ApiKeyView {
  readonly id: string;
  readonly name: string;
  readonly groups: readonly string[];
  readonly createdAt: string;
  readonly expiresAt: string | null;
  readonly lastUsedAt: string | null;
  readonly revokedAt: string | null;
  readonly createdBy: string | null;
  readonly state: 'active' | 'expired' | 'revoked';
}

export interface CreateApiKeyInput {
  readonly name: string;
  readonly groups: readonly string[];
  readonly expires?: string;
  readonly createdBy?: string;
}

export interface ApiKeyOpsOptions {
  readonly maxLifetimeDays?: number;
  readonly now?: () => Date;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const GROUP = /^[^\s,]{1,128}$/;

/** Creates a key; the returned `key` is the only time the secret exists outside the caller's hands. */
export async function apikeyCreate(store: ApiKeyStore, input: CreateApiKeyInput, opts: ApiKeyOpsOptions = {}): Promise<{ key: string; view: ApiKeyView }> {
  if (!NAME.test(input.name)) throw new ApiKeyInputError('name: 1-64 letters, digits, . _ - (starting with a letter or digit)');
  for (const g of input.groups) if (!GROUP.test(g)) throw new ApiKeyInputError(`group ${JSON.stringify(g)} is not a valid group name`);
  const now = (opts.now ?? (() => new Date()))();
  const expiresAt = parseExpiry(input.expires, now, opts.maxLifetimeDays ?? 365);
  const k = generateApiKey();
  const row = {
    id: k.id,
    prefix: k.prefix,
    hash: k.hash,
    name: input.name,
    groups: [...new Set(input.groups)],
    createdAt: now,
    expiresAt,
    createdBy: input.createdBy ?? null,
  };
  try {
    await store.insert(row);
  } catch (err) {
    if (isUniqueViolation(err)) throw new ApiKeyInputError(`an API key named ${input.name} exists`, { cause: err });
    throw err;
  }
  return { key: k.key, view: toView({ ...row, lastUsedAt: null, revokedAt: null }, now) };
}

export async function apikeyList(store: ApiKeyStore, now: Date = new Date()): Promise<ApiKeyView[]> {
  return (await store.list()).map((r) => toView(r, now));
}

export const apikeyRevoke = (store: ApiKeyStore, idOrName: string, now: Date = new Date()): Promise<boolean> => store.revoke(idOrName, now);

function toView(
  r: {
    id: string;
    name: string;
    groups: string[];
    createdAt: Date;
    expiresAt: Date | null;
    lastUsedAt: Date | null;
    revokedAt: Date | null;
    createdBy: string | null;
  },
  now: Date,
): ApiKeyView {
  const state = r.revokedAt !== null ? 'revoked' : r.expiresAt !== null && r.expiresAt <= now ? 'expired' : 'active';
  const iso = (d: Date | null) => (d === null ? null : d.toISOString());
  return {
    id: r.id,
    name: r.name,
    groups: r.groups,
    createdAt: r.createdAt.toISOString(),
    expiresAt: iso(r.expiresAt),
    lastUsedAt: iso(r.lastUsedAt),
    revokedAt: iso(r.revokedAt),
    createdBy: r.createdBy,
    state,
  };
}

export interface ApiKeyAuthDeps {
  readonly now?: () => Date;
  /** Where a failed last-used write is reported (it never fails the request). */
  readonly onTouchError?: (err: unknown) => void;
}

export function createApiKeyAuthenticator(store: ApiKeyStore, cfg: ApiKeysConfig, deps: ApiKeyAuthDeps = {}): DetectingAuthenticator {
  const now = deps.now ?? (() => new Date());
  const lastWrite = new Map<string, number>();
  const DUMMY = hashSecret('no-such-key');

  function presented(input: AuthInput): string[] {
    const found: string[] = [];
    const auth = readAuthorization(input);
    if (auth.kind === 'bearer' && auth.token.startsWith('cgk_')) found.push(auth.token);
    if (cfg.header !== 'authorization') found.push(...(input.headers.get(cfg.header) ?? []));
    return found;
  }

  const bad = (code: 'invalid_token' | 'revoked' | 'expired_token', detail: string, cause?: string): AuthResult => ({
    kind: 'fail',
    code,
    detail,
    ...(cause === undefined ? {} : { cause: new Error(cause) }),
  });

  return {
    name: 'api_key',
    detects: (input) => cfg.enabled && presented(input).length > 0,
    async authenticate(input) {
      if (!cfg.enabled) return { kind: 'skip' };
      const keys = presented(input);
      if (keys.length === 0) return { kind: 'skip' };
      if (keys.length > 1) return { kind: 'fail', code: 'invalid_request', detail: 'Send exactly one API key.' };
      const parsed = parseApiKey((keys[0] as string).trim());
      if (parsed === null) return bad('invalid_token', 'The API key is invalid.', 'malformed key');
      // Read every time: no positive cache, so a revocation is seen by the very next request.
      const row = await store.findById(parsed.id);
      const presentedHash = hashSecret(parsed.secret);
      const matches = digestsEqual(presentedHash, row?.hash ?? DUMMY);
      if (row === undefined || !matches) return bad('invalid_token', 'The API key is invalid.', row === undefined ? 'unknown key id' : 'secret mismatch');
      const t = now();
      if (row.revokedAt !== null) return bad('revoked', 'The API key is invalid.', 'revoked');
      if (row.expiresAt !== null && row.expiresAt <= t) return bad('expired_token', 'The API key has expired.', 'expired');
      const last = Math.max(lastWrite.get(row.id) ?? 0, row.lastUsedAt?.getTime() ?? 0);
      if (t.getTime() - last >= cfg.last_used_write_interval_seconds * 1000) {
        lastWrite.set(row.id, t.getTime());
        await store.touch(row.id, t).catch((err: unknown) => deps.onTouchError?.(err));
      }
      const principal: Principal = {
        id: `apikey:${row.id}`,
        name: row.name,
        email: null,
        groups: row.groups,
        method: 'api_key',
        authenticatedAt: t,
        apiKeyName: row.name,
        claims: {},
      };
      return { kind: 'ok', principal };
    },
  };
}
