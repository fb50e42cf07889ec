// docs/security.md class 3 (token validation), through the whole gateway with the real dev IdP in front of
// the real Ceph: every forged or misused token is a 401 `invalid_token` (never anonymous, never
// allowed), audited, and nothing reaches Ceph. Cases follow oauth2-proxy, Pomerium and Oathkeeper advisories.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { base64url, type JWTPayload } from 'jose';
import { type FullGateway, startFullGateway } from '../support/full-gateway.ts';
import { foreignKeyToken, goodClaims, hmacWithPublicKey, unsignedToken } from '../support/oidc.ts';
import { need, testEnv } from '../support/requirements.ts';
import { auditRowsOf, call, cephPools, requestIdOf, unique } from './support.ts';

let gw: FullGateway | null = null;
const g = () => gw as FullGateway;
const s = unique();

/** Tries to create a pool breakglass-style with `token`: must be refused with 401 and nothing created. */
async function refusedToken(token: string, code = 'invalid_token'): Promise<void> {
  const pool = `tok-${s}-${Math.random().toString(36).slice(2, 6)}`;
  const res = await call(g().url, 'POST', '/api/pool', { token, body: JSON.stringify({ pool, pg_num: 8, pool_type: 'replicated' }) });
  assert.equal(res.status, 401, res.text);
  assert.equal(res.json?.code, code);
  assert.match(String(res.headers['www-authenticate']), /^Bearer realm="cephgate"/);
  const rows = await auditRowsOf(g(), requestIdOf(res));
  assert.equal(rows.length, 1, 'the refusal is audited');
  assert.equal(rows[0]?.principal, null, 'never attributed to anyone');
  assert.equal((await cephPools()).includes(pool), false);
}

const erin = (extra: JWTPayload = {}) => ({ ...goodClaims(g().idp, { sub: 'erin', groups: ['breakglass'] }), ...extra });

describe('token validation', () => {
  before(async () => {
    if (testEnv.cephUrl) gw = await startFullGateway();
  });
  after(async () => {
    await gw?.close();
  });

  test('the control: a correctly signed breakglass token is accepted', async (t) => {
    if (!need(t, 'ceph')) return;
    const res = await call(g().url, 'GET', '/api/health/minimal', { token: await g().idp.signRaw(erin()) });
    assert.equal(res.status, 200, res.text);
  });

  test('alg none is refused', async (t) => {
    if (!need(t, 'ceph')) return;
    await refusedToken(unsignedToken(erin()));
    await refusedToken(unsignedToken(erin(), g().idp.currentKid()));
  });

  test('alg None / NONE spellings are refused', async (t) => {
    if (!need(t, 'ceph')) return;
    for (const alg of ['None', 'NONE', 'nOnE']) {
      const h = base64url.encode(JSON.stringify({ alg, typ: 'JWT' }));
      await refusedToken(`${h}.${base64url.encode(JSON.stringify(erin()))}.`);
    }
  });

  test('HS256 signed with the IdP RSA public key (key confusion) is refused', async (t) => {
    if (!need(t, 'ceph')) return;
    for (const tok of await hmacWithPublicKey(g().idp, erin())) await refusedToken(tok);
  });

  test('a key the IdP never published (unknown kid, and a known kid with a foreign key) is refused', async (t) => {
    if (!need(t, 'ceph')) return;
    await refusedToken(await foreignKeyToken(erin()));
    await refusedToken(await foreignKeyToken(erin(), g().idp.currentKid()));
  });

  test('an unknown issuer is refused, never treated as anonymous', async (t) => {
    if (!need(t, 'ceph')) return;
    await refusedToken(await g().idp.signRaw(erin({ iss: 'https://evil.example' })));
    await refusedToken(await g().idp.signRaw(erin({ iss: `${g().idp.issuer}/` })));
    const { iss: _drop, ...noIss } = erin();
    await refusedToken(await g().idp.signRaw(noIss));
  });

  test('a wrong or missing audience is refused', async (t) => {
    if (!need(t, 'ceph')) return;
    await refusedToken(await g().idp.signRaw(erin({ aud: 'another-client' })));
    const { aud: _drop, ...noAud } = erin();
    await refusedToken(await g().idp.signRaw(noAud));
  });

  test('exp, nbf or iat as strings are refused', async (t) => {
    if (!need(t, 'ceph')) return;
    const now = Math.floor(Date.now() / 1000);
    await refusedToken(await g().idp.signRaw(erin({ exp: String(now + 300) as never })));
    await refusedToken(await g().idp.signRaw(erin({ nbf: String(now + 3600) as never })));
    await refusedToken(await g().idp.signRaw(erin({ iat: String(now) as never })));
  });

  test('a token without exp is refused (never valid forever)', async (t) => {
    if (!need(t, 'ceph')) return;
    const { exp: _drop, ...noExp } = erin();
    await refusedToken(await g().idp.signRaw(noExp));
  });

  test('an expired token and nbf beyond the allowed skew are refused', async (t) => {
    if (!need(t, 'ceph')) return;
    const now = Math.floor(Date.now() / 1000);
    await refusedToken(await g().idp.signRaw(erin({ iat: now - 7200, exp: now - 3600 })));
    await refusedToken(await g().idp.signRaw(erin({ nbf: now + 3600 })));
  });

  test('a token without a subject is refused', async (t) => {
    if (!need(t, 'ceph')) return;
    const { sub: _drop, ...noSub } = erin();
    await refusedToken(await g().idp.signRaw(noSub));
  });

  test('a signature-stripped or re-encoded copy of a good token is refused (the cache never stands in)', async (t) => {
    if (!need(t, 'ceph')) return;
    const good = await g().idp.signRaw(erin());
    assert.equal((await call(g().url, 'GET', '/api/health/minimal', { token: good })).status, 200);
    const [h, p] = good.split('.');
    await refusedToken(`${h}.${p}.`);
    // Same signature, payload edited (groups widened): the cache key covers the whole token.
    const edited = base64url.encode(JSON.stringify({ ...erin(), groups: ['breakglass', 'operators'] }));
    await refusedToken(`${h}.${edited}.${good.split('.')[2]}`);
  });

  test('garbage bearer values are refused as invalid tokens or requests, never 500', async (t) => {
    if (!need(t, 'ceph')) return;
    for (const tok of ['a', 'a.b', 'a.b.c.d.e', `${'A'.repeat(8000)}.x.y`, 'eyJhbGciOiJSUzI1NiJ9.eyJleHAiOjF9']) {
      const res = await call(g().url, 'GET', '/api/pool', { token: tok });
      assert.ok([400, 401].includes(res.status), `${tok.slice(0, 20)}: ${res.status}`);
      assert.ok(['invalid_token', 'invalid_request'].includes(String(res.json?.code)));
    }
  });

  test('an ID-token-typed or other-purpose token is refused when typ is required', async (t) => {
    if (!need(t, 'ceph')) return;
    const strict = await startFullGateway({
      idp: g().idp,
      config: (base) => {
        const identity = base.identity as { issuers: Record<string, unknown>[] };
        identity.issuers[0] = { ...identity.issuers[0], required_typ: 'at+jwt' };
        return base;
      },
    });
    try {
      const access = await call(strict.url, 'GET', '/api/health/minimal', { token: await g().idp.signRaw(erin(), { typ: 'at+jwt' }) });
      assert.equal(access.status, 200, access.text);
      for (const typ of ['JWT', 'id_token+jwt', 'logout+jwt']) {
        const res = await call(strict.url, 'GET', '/api/health/minimal', { token: await g().idp.signRaw(erin(), { typ }) });
        assert.equal(res.status, 401, `${typ}: ${res.text}`);
        assert.equal(res.json?.code, 'invalid_token');
      }
    } finally {
      await strict.close();
    }
  });
});
