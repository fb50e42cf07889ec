// Checks that an authenticating target really authenticates before its numbers count: the bench token gets
// the stub's answer; no token, an expired one, the wrong group, audience or issuer, and another key's
// signature are refused. A baseline that let these through would be measured doing less than G.

import { decodeJwt, decodeProtectedHeader, generateKeyPair, type JWTPayload, SignJWT } from 'jose';
import { loadFixtures } from './fixtures.ts';

/** Tokens that must be refused, minted once per run from the bench's valid token (same claims, one changed). */
export interface ProbeTokens {
  readonly expired: string;
  readonly wrongAudience: string;
  readonly wrongIssuer: string;
  /** Signed by a key the issuer never published, under the issuer's current kid. */
  readonly otherKey: string;
}

/** What the dev IdP offers for forging (scripts/dev-idp/provider.ts). */
export interface Forger {
  signRaw(payload: JWTPayload, header?: { kid?: string; typ?: string }): Promise<string>;
}

export async function mintProbeTokens(idp: Forger, valid: string): Promise<ProbeTokens> {
  const claims = decodeJwt(valid);
  const { kid, typ } = decodeProtectedHeader(valid);
  const header = { ...(kid === undefined ? {} : { kid }), ...(typ === undefined ? {} : { typ }) };
  const now = Math.floor(Date.now() / 1000);
  const { privateKey } = await generateKeyPair('RS256');
  return {
    // Expired ten minutes ago: beyond any clock-skew allowance.
    expired: await idp.signRaw({ ...claims, iat: now - 1200, exp: now - 600 }, header),
    wrongAudience: await idp.signRaw({ ...claims, aud: 'not-cephgate' }, header),
    wrongIssuer: await idp.signRaw({ ...claims, iss: 'http://127.0.0.1:1/other-issuer' }, header),
    otherKey: await new SignJWT(claims).setProtectedHeader({ alg: 'RS256', ...header }).sign(privateKey),
  };
}

interface Probe {
  readonly name: string;
  readonly token: string | null;
  /** Acceptable statuses: a refusal may be 401 (no/invalid token) or 403 (valid token, not allowed). */
  readonly expect: readonly number[];
}

/**
 * Sends each probe as `GET /api/pool` with the client's plain JSON Accept, and throws listing every answer
 * that differs from what G would give. Returns a one-line summary for the row's note.
 */
export async function checkAuthentication(url: string, tokens: { readonly valid: string; readonly wrongGroup: string }, probes: ProbeTokens): Promise<string> {
  const list: Probe[] = [
    { name: 'valid', token: tokens.valid, expect: [200] },
    { name: 'no token', token: null, expect: [401] },
    { name: 'expired', token: probes.expired, expect: [401] },
    { name: 'wrong group', token: tokens.wrongGroup, expect: [401, 403] },
    { name: 'wrong aud', token: probes.wrongAudience, expect: [401, 403] },
    { name: 'wrong iss', token: probes.wrongIssuer, expect: [401, 403] },
    { name: 'other key', token: probes.otherKey, expect: [401] },
  ];
  const expectedBody = loadFixtures()['pool-list'].body;
  const seen: string[] = [];
  const wrong: string[] = [];
  for (const p of list) {
    const headers: Record<string, string> = { accept: 'application/json', ...(p.token === null ? {} : { authorization: `Bearer ${p.token}` }) };
    const res = await fetch(`${url}/api/pool`, { headers });
    const body = await res.text();
    seen.push(`${p.name} ${res.status}`);
    if (!p.expect.includes(res.status)) wrong.push(`${p.name}: ${res.status}, expected ${p.expect.join(' or ')}`);
    // The valid request must reach the stub and bring its answer back unchanged (not, say, a login page).
    else if (res.status === 200 && body !== expectedBody) wrong.push(`${p.name}: 200 but not the stub's answer (${body.slice(0, 80)})`);
  }
  if (wrong.length > 0) throw new Error(`authentication check failed at ${url}: ${wrong.join('; ')}`);
  return `auth checked: ${seen.join(', ')}`;
}
