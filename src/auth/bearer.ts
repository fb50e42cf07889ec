// Bearer JWT authenticator (RFC 6750, RFC 7519, RFC 8725, RFC 9068): several trusted issuers, each with
// its own keys, audience, algorithm allow-list and claim mapping; verified tokens cached within their exp.

import { decodeJwt, type JWTPayload, type JWTVerifyGetKey, errors as joseErrors, jwtVerify } from 'jose';
import type { IdentityConfig, IssuerConfig } from '../config/identity.ts';
import type { Authenticator, AuthInput, AuthResult, Principal } from '../core/principal.ts';
import { principalFromClaims } from './claims.ts';
import { fail, readAuthorization } from './credentials.ts';
import { createIssuerKeys, type FetchLike } from './jwks.ts';
import { VerifiedTokenCache } from './token-cache.ts';

/** API keys travel as `Bearer cgk_...` too; they belong to the API-key authenticator. */
export const API_KEY_PREFIX = 'cgk_';

export interface BearerDeps {
  readonly fetch?: FetchLike;
  /** Clock in epoch ms (tests move it). */
  readonly now?: () => number;
  /** Key getter per issuer (default: discovery + remote JWKS). */
  readonly keysFor?: (issuer: IssuerConfig) => JWTVerifyGetKey;
  /** Called on every JWKS fetch (metrics). */
  readonly onJwksFetch?: (issuer: string) => void;
}

export interface BearerAuthenticator extends Authenticator {
  /** True when the request carries a credential this authenticator would judge (for the chain's one-credential rule). */
  detects(input: AuthInput): boolean;
  readonly cache: VerifiedTokenCache<Principal>;
}

interface TrustedIssuer {
  readonly cfg: IssuerConfig;
  readonly getKey: JWTVerifyGetKey;
}

const isNumericDate = (v: unknown): boolean => typeof v === 'number' && Number.isFinite(v);

/** RFC 7519 2: NumericDate is a JSON number; `"exp": "9999999999"` must not pass as a date. */
export function timeClaimsAreNumeric(payload: JWTPayload): boolean {
  if (!isNumericDate(payload.exp)) return false;
  for (const c of ['nbf', 'iat'] as const) if (payload[c] !== undefined && !isNumericDate(payload[c])) return false;
  return true;
}

/** Scopes granted by the token: RFC 8693 `scope` (space-separated) or the common `scp` array. */
export function tokenScopes(payload: JWTPayload): Set<string> {
  const out = new Set<string>();
  if (typeof payload.scope === 'string') for (const s of payload.scope.split(' ')) if (s) out.add(s);
  if (Array.isArray(payload.scp)) for (const s of payload.scp) if (typeof s === 'string') out.add(s);
  return out;
}

export function createBearerAuthenticator(config: Pick<IdentityConfig, 'issuers' | 'token_cache'>, deps: BearerDeps = {}): BearerAuthenticator {
  const now = deps.now ?? Date.now;
  const keysFor =
    deps.keysFor ??
    ((cfg: IssuerConfig) =>
      createIssuerKeys(cfg, { ...(deps.fetch ? { fetch: deps.fetch } : {}), ...(deps.onJwksFetch ? { onJwksFetch: deps.onJwksFetch } : {}), now }));
  const byIssuer = new Map<string, TrustedIssuer>();
  for (const cfg of config.issuers) byIssuer.set(cfg.issuer, { cfg, getKey: keysFor(cfg) });
  // One cache per authenticator, i.e. per configuration: every validation input is fixed for its
  // lifetime (identity settings are read once, at start), so the token alone is the key (see authenticate).
  const cache = new VerifiedTokenCache<Principal>(config.token_cache.max_entries, config.token_cache.max_ttl_seconds * 1000);

  function bearerToken(input: AuthInput): string | null {
    const auth = readAuthorization(input);
    return auth.kind === 'bearer' && !auth.token.startsWith(API_KEY_PREFIX) ? auth.token : null;
  }

  async function verify(token: string, trusted: TrustedIssuer, nowMs: number): Promise<AuthResult> {
    const { cfg } = trusted;
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, trusted.getKey, {
        issuer: cfg.issuer,
        audience: cfg.audiences,
        algorithms: cfg.algorithms,
        clockTolerance: cfg.clock_skew_seconds,
        requiredClaims: ['exp'],
        currentDate: new Date(nowMs),
        ...(cfg.required_typ === undefined ? {} : { typ: cfg.required_typ }),
      }));
    } catch (err) {
      return err instanceof joseErrors.JWTExpired ? fail.expired(err) : fail.token(err);
    }
    if (!timeClaimsAreNumeric(payload)) return fail.token(new Error('non-numeric time claim'));
    const scopes = tokenScopes(payload);
    const missing = cfg.required_scopes.filter((s) => !scopes.has(s));
    if (missing.length > 0) return fail.token(new Error(`missing scopes: ${missing.join(' ')}`));
    const principal = principalFromClaims({
      issuer: cfg.issuer,
      claims: payload as Record<string, unknown>,
      mapping: cfg.claims,
      groupMapping: cfg.group_mapping,
      unmappedGroups: cfg.unmapped_groups,
      method: 'oidc_bearer',
      now: new Date(nowMs),
    });
    if (principal === null) return fail.token(new Error('subject claim missing'));
    cache.set(token, principal, payload.exp as number, nowMs);
    return { kind: 'ok', principal };
  }

  return {
    name: 'oidc_bearer',
    cache,
    detects: (input) => bearerToken(input) !== null,
    async authenticate(input) {
      // The chain (auth/chain.ts) has refused query tokens and malformed or repeated Authorization headers.
      const token = bearerToken(input); // the Authorization parse is memoised: no second parse
      if (token === null) return { kind: 'skip' };
      // A token's issuer (hence its validation settings) is fixed by its bytes and the configuration is
      // fixed for the process: a cache hit on the token alone is a hit on every validation input, and
      // saves decoding it again (~1 µs per request).
      const nowMs = now();
      const hit = cache.get(token, nowMs);
      if (hit !== undefined) return { kind: 'ok', principal: { ...hit, authenticatedAt: new Date(nowMs) } };
      let unverified: JWTPayload;
      try {
        unverified = decodeJwt(token);
      } catch (err) {
        return fail.token(err);
      }
      // Chosen by `iss`, then everything is verified against that issuer's own settings; unknown -> refused.
      const trusted = typeof unverified.iss === 'string' ? byIssuer.get(unverified.iss) : undefined;
      if (trusted === undefined) return fail.token(new Error('untrusted issuer'));
      if (!timeClaimsAreNumeric(unverified)) return fail.token(new Error('non-numeric time claim'));
      return verify(token, trusted, nowMs);
    },
  };
}
