// Signing keys of one trusted issuer: OIDC Discovery 1.0 for the `jwks_uri` (issuer must match, 4.3),
// then jose's remote JWKS (cached; an unknown `kid` triggers at most one refetch per cooldown).

import { type CompactJWSHeaderParameters, createRemoteJWKSet, customFetch, type FlattenedJWSInput, type JWTVerifyGetKey } from 'jose';
import type { IssuerConfig } from '../config/identity.ts';

export type FetchLike = (input: string | URL, init?: RequestInit) => Promise<Response>;

export interface IssuerKeysDeps {
  readonly fetch?: FetchLike;
  readonly now?: () => number;
  /** Called on every JWKS fetch (metrics). */
  readonly onJwksFetch?: (issuer: string) => void;
}

/** Fetches the discovery document and returns its checked `jwks_uri`. Network and checks only. */
export async function discoverJwksUri(issuer: string, fetchFn: FetchLike, timeoutMs: number): Promise<URL> {
  const url = `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
  const res = await fetchFn(url, { signal: AbortSignal.timeout(timeoutMs), redirect: 'error', headers: { accept: 'application/json' } });
  if (res.status !== 200) throw new Error(`discovery of ${issuer} answered ${res.status}`);
  return jwksUriFromDiscovery(issuer, (await res.json()) as unknown);
}

/** OIDC Discovery 4.3: the document's `issuer` must be exactly the configured one; jwks_uri must be https (or loopback http). */
export function jwksUriFromDiscovery(issuer: string, doc: unknown): URL {
  if (doc === null || typeof doc !== 'object') throw new Error('discovery document is not an object');
  const d = doc as Record<string, unknown>;
  if (d.issuer !== issuer) throw new Error(`discovery issuer mismatch: expected ${issuer}`);
  if (typeof d.jwks_uri !== 'string') throw new Error('discovery document has no jwks_uri');
  const u = new URL(d.jwks_uri);
  const loopback = u.hostname === '127.0.0.1' || u.hostname === '[::1]' || u.hostname === 'localhost';
  if (u.protocol !== 'https:' && !(u.protocol === 'http:' && loopback)) throw new Error('jwks_uri must be https');
  return u;
}

/** A key getter for jwtVerify. Discovery runs lazily and is retried at most once per cooldown after a failure. */
export function createIssuerKeys(cfg: IssuerConfig, deps: IssuerKeysDeps = {}): JWTVerifyGetKey {
  const fetchFn = deps.fetch ?? fetch;
  const now = deps.now ?? Date.now;
  const retryMs = Math.max(1000, cfg.jwks_cooldown_seconds * 1000);
  let remote: JWTVerifyGetKey | null = null;
  let pending: Promise<JWTVerifyGetKey> | null = null;
  let failedAt = Number.NEGATIVE_INFINITY;
  let lastError: unknown = null;

  const build = (jwksUri: URL): JWTVerifyGetKey =>
    createRemoteJWKSet(jwksUri, {
      cooldownDuration: cfg.jwks_cooldown_seconds * 1000,
      cacheMaxAge: cfg.jwks_cache_max_age_seconds * 1000,
      timeoutDuration: cfg.http_timeout_ms,
      [customFetch]: (url, init) => {
        deps.onJwksFetch?.(cfg.name);
        return fetchFn(url, { ...init, redirect: 'error' });
      },
    });

  async function resolve(): Promise<JWTVerifyGetKey> {
    if (remote !== null) return remote;
    if (now() - failedAt < retryMs) throw new Error('issuer discovery failed recently', { cause: lastError });
    pending ??= (async () => {
      try {
        const uri = cfg.jwks_uri !== undefined ? new URL(cfg.jwks_uri) : await discoverJwksUri(cfg.issuer, fetchFn, cfg.http_timeout_ms);
        remote = build(uri);
        return remote;
      } catch (err) {
        failedAt = now();
        lastError = err;
        throw err;
      } finally {
        pending = null;
      }
    })();
    return pending;
  }

  return async (header: CompactJWSHeaderParameters, token: FlattenedJWSInput) => (await resolve())(header, token);
}
