// The signing keys G trusts, as PEM files with their kid, for baselines that cannot fetch a JWKS themselves:
// mod_auth_openidc refuses a plain-http jwks_uri, and the dev IdP only serves http on loopback.

import { createPublicKey, type JsonWebKey } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface PemKey {
  readonly kid: string;
  readonly file: string;
}

/**
 * Follows the issuer's discovery document to its JWKS, exactly as G does (src/auth/jwks.ts), and writes each
 * RSA signing key's SubjectPublicKeyInfo PEM into `dir`. A snapshot: keys rotated later are not seen.
 */
export async function writeIssuerKeys(issuer: string, dir: string): Promise<PemKey[]> {
  const discovery = (await (await fetch(`${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`)).json()) as { issuer?: string; jwks_uri?: string };
  if (discovery.issuer !== issuer || typeof discovery.jwks_uri !== 'string') throw new Error(`discovery of ${issuer} has no matching issuer / jwks_uri`);
  const { keys } = (await (await fetch(discovery.jwks_uri)).json()) as { keys?: (JsonWebKey & { kid?: string; use?: string })[] };
  const out: PemKey[] = [];
  for (const jwk of keys ?? []) {
    if (jwk.kty !== 'RSA' || jwk.use === 'enc' || typeof jwk.kid !== 'string') continue;
    // `kid#file` is how mod_auth_openidc names a static key; a '#' or space in the kid would break that syntax.
    if (!/^[A-Za-z0-9._-]+$/.test(jwk.kid)) throw new Error(`kid ${jwk.kid} cannot be written as kid#file`);
    const file = join(dir, `${jwk.kid}.pem`);
    await writeFile(file, createPublicKey({ key: jwk, format: 'jwk' }).export({ type: 'spki', format: 'pem' }));
    out.push({ kid: jwk.kid, file });
  }
  if (out.length === 0) throw new Error(`no RSA signing key in ${discovery.jwks_uri}`);
  return out;
}
