// Exchanges a Ceph account's password for a dashboard token (POST /api/auth) and caches it per cluster +
// account: single-flight logins, refresh before `exp`, invalidation on 401, and a breaker that stops well
// before Ceph disables the account after 10 failed logins in a row (docs/ceph-facts.md "Login and tokens").

import { decodeJwt } from 'jose';
import { GatewayError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';

/** One raw login exchange with the cluster's active mgr: POST /api/auth with the given JSON body. */
export type LoginHttp = (cluster: string, body: string) => Promise<{ status: number; body: string }>;

export interface TokenAccount {
  readonly username: string;
  /** Read at each login attempt, so a corrected secret (file/env) re-arms a tripped breaker. */
  readonly password: () => string;
}

export interface TokenPolicy {
  /** Consecutive invalid-credential answers after which no login is tried until the password changes. */
  readonly maxCredentialFailures: number;
  readonly backoffBaseMs: number;
  readonly backoffMaxMs: number;
  /** Renew this long before the JWT's `exp`. */
  readonly refreshBeforeExpMs: number;
}

export const DEFAULT_TOKEN_POLICY: TokenPolicy = { maxCredentialFailures: 3, backoffBaseMs: 1000, backoffMaxMs: 60_000, refreshBeforeExpMs: 60_000 };

interface Slot {
  token: string | null;
  renewAt: number;
  inflight: Promise<string> | null;
  failures: number;
  credentialFailures: number;
  /** The password that got `credentialFailures` invalid-credential answers. */
  failedPassword: string | null;
  notBefore: number;
  lastError: GatewayError | null;
  logins: number;
  /** What Ceph's login answer says the account may do (`{scope: [permission, ...]}`), from its last login. */
  permissions: Readonly<Record<string, readonly string[]>> | null;
}

export interface TokenManager {
  /** A valid token for the account, logging in (once, shared) when needed. */
  getToken(cluster: string, account: string): Promise<string>;
  /** Forget `token` after an upstream 401 (only if it is still the cached one). */
  invalidate(cluster: string, account: string, token: string): void;
  /** Login attempts made so far for the account (for metrics and tests). */
  loginCount(cluster: string, account: string): number;
  /** The account's Ceph permissions from its last login (null before one): logs in when needed. */
  permissions(cluster: string, account: string): Promise<Readonly<Record<string, readonly string[]>>>;
}

export interface TokenManagerOptions {
  readonly http: LoginHttp;
  /** cluster -> account name -> credentials. */
  readonly accounts: ReadonlyMap<string, ReadonlyMap<string, TokenAccount>>;
  readonly policy?: Partial<TokenPolicy>;
  readonly now?: () => number;
  readonly log: Logger;
  /** Observers for metrics: each login's result, each request served by a cached token. */
  readonly onLogin?: (cluster: string, result: 'ok' | 'failed') => void;
  readonly onCacheHit?: (cluster: string) => void;
}

const retryAfter = (ms: number): number => Math.max(1, Math.ceil(ms / 1000));

export function createTokenManager(o: TokenManagerOptions): TokenManager {
  const policy: TokenPolicy = { ...DEFAULT_TOKEN_POLICY, ...o.policy };
  const now = o.now ?? Date.now;
  const slots = new Map<string, Slot>();

  const slotOf = (cluster: string, account: string): Slot => {
    const key = `${cluster}\u0000${account}`;
    let s = slots.get(key);
    if (s === undefined) {
      s = {
        token: null,
        renewAt: 0,
        inflight: null,
        failures: 0,
        credentialFailures: 0,
        failedPassword: null,
        notBefore: 0,
        lastError: null,
        logins: 0,
        permissions: null,
      };
      slots.set(key, s);
    }
    return s;
  };

  const refused = (cluster: string, account: string, s: Slot, waitMs: number, credentials: boolean): GatewayError => {
    const n = retryAfter(waitMs);
    return credentials
      ? new GatewayError(503, 'ceph_login_failed', `The gateway cannot log in to Ceph cluster ${cluster} as account ${account}.`, {
          headers: { 'Retry-After': String(n) },
          extra: { retry_after: n },
          cause: s.lastError,
        })
      : new GatewayError(503, 'ceph_unavailable', `Ceph cluster ${cluster} is not accepting logins right now.`, {
          headers: { 'Retry-After': String(n) },
          extra: { retry_after: n },
          cause: s.lastError,
        });
  };

  async function login(cluster: string, account: string, cred: TokenAccount, s: Slot): Promise<string> {
    let password: string;
    try {
      password = cred.password();
    } catch (err) {
      throw new GatewayError(503, 'ceph_unavailable', `The password of Ceph account ${account} cannot be read.`, { cause: err });
    }
    // Never `ttl`: Pacific answers 500 to unknown fields, and the token lifetime is Ceph's to decide.
    const body = JSON.stringify({ username: cred.username, password });
    s.logins++;
    let res: { status: number; body: string };
    try {
      res = await o.http(cluster, body);
    } catch (err) {
      return fail(cluster, account, s, false, password, err);
    }
    if (res.status === 200 || res.status === 201) {
      let token: unknown;
      let permissions: unknown;
      try {
        ({ token, permissions } = JSON.parse(res.body) as { token?: unknown; permissions?: unknown });
      } catch {
        token = undefined;
      }
      s.permissions = typeof permissions === 'object' && permissions !== null ? (permissions as Record<string, readonly string[]>) : {};
      if (typeof token !== 'string' || token === '') return fail(cluster, account, s, false, password, new Error('login answer without token'));
      let expMs = now() + 300_000;
      try {
        const { exp, iat } = decodeJwt(token);
        if (typeof exp === 'number') {
          const lifetime = typeof iat === 'number' ? (exp - iat) * 1000 : Number.POSITIVE_INFINITY;
          expMs = exp * 1000 - Math.min(policy.refreshBeforeExpMs, lifetime / 10);
        }
      } catch {
        // Not a JWT we can read: keep it for 5 minutes and let a 401 say when it stops working.
      }
      Object.assign(s, { token, renewAt: expMs, failures: 0, credentialFailures: 0, failedPassword: null, notBefore: 0, lastError: null });
      o.log.info({ cluster, account, renewAt: new Date(expMs).toISOString() }, 'ceph login ok');
      o.onLogin?.(cluster, 'ok');
      return token;
    }
    // 400 invalid_credentials is what counts towards Ceph's lock-out; 5xx/others are transient.
    const credentials = res.status === 400 || res.status === 401 || res.status === 403;
    return fail(cluster, account, s, credentials, password, new Error(`login answered ${res.status}: ${res.body.slice(0, 200)}`));
  }

  function fail(cluster: string, account: string, s: Slot, credentials: boolean, password: string, cause: unknown): never {
    s.failures++;
    o.onLogin?.(cluster, 'failed');
    if (credentials) {
      s.credentialFailures = s.failedPassword === password ? s.credentialFailures + 1 : 1;
      s.failedPassword = password;
    }
    const wait = Math.min(policy.backoffMaxMs, policy.backoffBaseMs * 2 ** (s.failures - 1));
    s.notBefore = now() + wait;
    s.lastError = cause instanceof GatewayError ? cause : new GatewayError(503, 'ceph_login_failed', 'ceph login failed', { cause });
    const tripped = credentials && s.credentialFailures >= policy.maxCredentialFailures;
    const fields = { cluster, account, failures: s.failures, credentialFailures: s.credentialFailures, err: String((cause as Error)?.message ?? cause) };
    if (tripped) o.log.error(fields, 'ceph login refused repeatedly: no more attempts until the password changes');
    else o.log.warn(fields, 'ceph login failed');
    throw refused(cluster, account, s, tripped ? policy.backoffMaxMs : wait, credentials || s.credentialFailures > 0);
  }

  return {
    getToken(cluster, account) {
      const cred = o.accounts.get(cluster)?.get(account);
      if (cred === undefined)
        return Promise.reject(new GatewayError(503, 'ceph_unavailable', `No Ceph account ${account} is configured for cluster ${cluster}.`));
      const s = slotOf(cluster, account);
      if (s.token !== null && now() < s.renewAt) {
        o.onCacheHit?.(cluster);
        return Promise.resolve(s.token);
      }
      if (s.inflight !== null) return s.inflight;
      const t = now();
      // Tripped breaker: only a changed password may try again (Ceph disables the account at 10 failures).
      if (s.credentialFailures >= policy.maxCredentialFailures) {
        let samePassword = true;
        try {
          samePassword = cred.password() === s.failedPassword;
        } catch {
          samePassword = true;
        }
        if (samePassword) return Promise.reject(refused(cluster, account, s, policy.backoffMaxMs, true));
      } else if (t < s.notBefore) {
        return Promise.reject(refused(cluster, account, s, s.notBefore - t, s.credentialFailures > 0));
      }
      s.inflight = login(cluster, account, cred, s).finally(() => {
        s.inflight = null;
      });
      return s.inflight;
    },
    invalidate(cluster, account, token) {
      const s = slotOf(cluster, account);
      if (s.token === token) {
        s.token = null;
        s.renewAt = 0;
      }
    },
    loginCount: (cluster, account) => slotOf(cluster, account).logins,
    async permissions(cluster, account) {
      const s = slotOf(cluster, account);
      if (s.permissions === null) await this.getToken(cluster, account);
      return s.permissions ?? {};
    },
  };
}
