// Test helpers for identity: request inputs for authenticators, issuer config for the dev IdP,
// and forged tokens (alg none, HMAC keyed with the RSA public key, unknown keys) for the refusal tests.

import { createPublicKey } from 'node:crypto';
import { base64url, generateKeyPair, type JWTPayload, SignJWT } from 'jose';
import { DEV_AUDIENCE, type DevIdp } from '../../scripts/dev-idp/provider.ts';
import { type IssuerConfig, issuerSchema } from '../../src/config/identity.ts';
import type { HttpMethod } from '../../src/core/http.ts';
import type { AuthInput } from '../../src/core/principal.ts';

export interface InputOptions {
  readonly method?: HttpMethod;
  readonly headers?: Record<string, string | string[]>;
  readonly path?: string;
}

/** An AuthInput as the intake stage builds it: lower-case names, every value kept. */
export function authInput(opts: InputOptions = {}): AuthInput {
  const raw = opts.path ?? '/api/health/minimal';
  const q = raw.indexOf('?');
  const rawPath = q < 0 ? raw : raw.slice(0, q);
  const rawQuery = q < 0 ? '' : raw.slice(q + 1);
  const query: Record<string, string[]> = {};
  for (const [k, v] of new URLSearchParams(rawQuery)) query[k] = [...(query[k] ?? []), v];
  const headers = new Map<string, string[]>();
  for (const [k, v] of Object.entries(opts.headers ?? {})) headers.set(k.toLowerCase(), Array.isArray(v) ? v : [v]);
  return {
    method: opts.method ?? 'GET',
    headers,
    target: { raw, rawPath, segments: rawPath.split('/').slice(1), rawQuery, query, cluster: null },
    clientIp: '127.0.0.1',
  };
}

export const bearer = (token: string): AuthInput => authInput({ headers: { authorization: `Bearer ${token}` } });

export function issuerConfigFor(idp: DevIdp, overrides: Record<string, unknown> = {}): IssuerConfig {
  return issuerSchema.parse({ name: 'dev', issuer: idp.issuer, audiences: [DEV_AUDIENCE], jwks_cooldown_seconds: 0, ...overrides });
}

/** Standard claims of a token that would pass, for forging variants of it. */
export function goodClaims(idp: DevIdp, extra: JWTPayload = {}): JWTPayload {
  const now = Math.floor(Date.now() / 1000);
  return { iss: idp.issuer, aud: DEV_AUDIENCE, sub: 'alice', groups: ['team-a'], iat: now, exp: now + 300, ...extra };
}

/** RFC 7519 6.1 unsecured JWT: `alg: none`, empty signature. */
export function unsignedToken(payload: JWTPayload, kid?: string): string {
  const header = base64url.encode(JSON.stringify({ alg: 'none', typ: 'JWT', ...(kid ? { kid } : {}) }));
  return `${header}.${base64url.encode(JSON.stringify(payload))}.`;
}

/** The classic key-confusion attack: HS256 keyed with the IdP's RSA public key (PEM and JWK forms). */
export async function hmacWithPublicKey(idp: DevIdp, payload: JWTPayload): Promise<string[]> {
  const jwks = (await (await fetch(`${idp.issuer}/jwks`)).json()) as { keys: Record<string, unknown>[] };
  const jwk = jwks.keys.find((k) => k.kid === idp.currentKid());
  if (jwk === undefined) throw new Error('current key not published');
  const pem = createPublicKey({ key: jwk as never, format: 'jwk' }).export({ type: 'spki', format: 'pem' });
  const secrets = [Buffer.from(pem), Buffer.from(JSON.stringify(jwk))];
  return Promise.all(secrets.map((s) => new SignJWT(payload).setProtectedHeader({ alg: 'HS256', kid: idp.currentKid() }).sign(s)));
}

/** A correctly formed RS256 token signed by a key the IdP never published. */
let foreignKey: Promise<CryptoKey> | null = null;
export async function foreignKeyToken(payload: JWTPayload, kid = 'not-a-published-kid'): Promise<string> {
  foreignKey ??= generateKeyPair('RS256').then((k) => k.privateKey);
  return new SignJWT(payload).setProtectedHeader({ alg: 'RS256', kid }).sign(await foreignKey);
}
