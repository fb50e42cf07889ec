// Bearer JWT authenticator against the real dev OIDC provider (oidc-provider, in-process): accepted
// tokens, each refusal class of docs/security.md class 3, key rotation, provider outage, cache bounds.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type DevIdp, startDevIdp } from '../../scripts/dev-idp/provider.ts';
import { createBearerAuthenticator } from '../../src/auth/bearer.ts';
import { createAuthenticatorChain } from '../../src/auth/chain.ts';
import { GatewayError } from '../../src/core/errors.ts';
import type { AuthInput, AuthResult } from '../../src/core/principal.ts';
import { authInput, bearer, foreignKeyToken, goodClaims, hmacWithPublicKey, issuerConfigFor, unsignedToken } from '../support/oidc.ts';

const cacheCfg = { max_entries: 100, max_ttl_seconds: 300 };
const failCode = (r: AuthResult) => (r.kind === 'fail' ? r.code : r.kind);

describe('bearer authenticator with a real OIDC provider', () => {
  let idp: DevIdp;
  let other: DevIdp;
  before(async () => {
    idp = await startDevIdp();
    other = await startDevIdp();
  });
  after(async () => {
    await idp.stop();
    await other.stop();
  });

  test('a valid access token is accepted with the mapped principal', async () => {
    const auth = createBearerAuthenticator({ issuers: [issuerConfigFor(idp, { required_typ: 'at+jwt' })], token_cache: cacheCfg });
    const r = await auth.authenticate(bearer(await idp.tokenFor('carol')));
    assert.equal(r.kind, 'ok');
    if (r.kind !== 'ok') return;
    assert.equal(r.principal.id, `${idp.issuer}#carol`);
    assert.deepEqual(r.principal.groups, ['operators', 'readers']);
    assert.equal(r.principal.method, 'oidc_bearer');
    const cc = await auth.authenticate(bearer(await idp.clientCredentialsToken()));
    assert.equal(cc.kind === 'ok' && cc.principal.id, `${idp.issuer}#automation`);
  });

  test('refuses alg none, HMAC keyed with the RSA public key, unknown kid, other issuer, wrong audience', async () => {
    const auth = createBearerAuthenticator({ issuers: [issuerConfigFor(idp)], token_cache: cacheCfg });
    const claims = goodClaims(idp);
    const cases: [string, string][] = [
      ['alg none', unsignedToken(claims, idp.currentKid())],
      ...(await hmacWithPublicKey(idp, claims)).map((t, i): [string, string] => [`hmac with public key ${i}`, t]),
      ['unknown kid', await foreignKeyToken(claims)],
      ['foreign key with the real kid', await foreignKeyToken(claims, idp.currentKid())],
      ['other issuer', await other.tokenFor('alice')],
      ['other issuer claiming ours', await other.signRaw(claims)],
      ['wrong audience', await idp.signRaw({ ...claims, aud: 'not-cephgate' })],
      ['no exp', await idp.signRaw((({ exp: _e, ...rest }) => rest)(claims))],
      ['string exp', await idp.signRaw({ ...claims, exp: String(claims.exp) as never })],
      ['string nbf', await idp.signRaw({ ...claims, nbf: String(claims.iat) as never })],
      ['garbage', 'not.a.jwt'],
    ];
    for (const [what, token] of cases) {
      const r = await auth.authenticate(bearer(token));
      assert.equal(failCode(r), 'invalid_token', what);
      assert.ok(r.kind !== 'fail' || !/secret|key|-----/i.test(r.detail), `${what}: detail leaks nothing`);
    }
  });

  test('expired and not-yet-valid tokens are refused; skew is bounded', async () => {
    const auth = createBearerAuthenticator({ issuers: [issuerConfigFor(idp, { clock_skew_seconds: 30 })], token_cache: cacheCfg });
    const now = Math.floor(Date.now() / 1000);
    assert.equal(failCode(await auth.authenticate(bearer(await idp.signRaw(goodClaims(idp, { iat: now - 600, exp: now - 60 }))))), 'expired_token');
    assert.equal(failCode(await auth.authenticate(bearer(await idp.signRaw(goodClaims(idp, { nbf: now + 120 }))))), 'invalid_token');
    // Within the skew both pass.
    assert.equal(failCode(await auth.authenticate(bearer(await idp.signRaw(goodClaims(idp, { nbf: now + 10 }))))), 'ok');
    assert.equal(failCode(await auth.authenticate(bearer(await idp.signRaw(goodClaims(idp, { exp: now - 10 }))))), 'ok');
  });

  test('required typ and scopes are enforced', async () => {
    const auth = createBearerAuthenticator({
      issuers: [issuerConfigFor(idp, { required_typ: 'at+jwt', required_scopes: ['cephgate'] })],
      token_cache: cacheCfg,
    });
    assert.equal(failCode(await auth.authenticate(bearer(await idp.signRaw(goodClaims(idp, { scope: 'cephgate' }))))), 'invalid_token', 'typ JWT');
    assert.equal(failCode(await auth.authenticate(bearer(await idp.signRaw(goodClaims(idp), { typ: 'at+jwt' })))), 'invalid_token', 'no scope');
    assert.equal(failCode(await auth.authenticate(bearer(await idp.tokenFor('alice')))), 'ok');
  });

  test('nested group claims and static mapping', async () => {
    const auth = createBearerAuthenticator({
      issuers: [
        issuerConfigFor(idp, { claims: { groups: ['resource_access', 'ceph.gw', 'roles'] }, group_mapping: { admin: ['operators'] }, unmapped_groups: 'drop' }),
      ],
      token_cache: cacheCfg,
    });
    const r = await auth.authenticate(bearer(await idp.signRaw(goodClaims(idp, { resource_access: { 'ceph.gw': { roles: ['admin', 'other'] } } }))));
    assert.deepEqual(r.kind === 'ok' && r.principal.groups, ['operators']);
  });

  test('only one Authorization: Bearer header; no tokens in the query string (rules of the chain); API keys are not ours', async () => {
    const auth = createBearerAuthenticator({ issuers: [issuerConfigFor(idp)], token_cache: cacheCfg });
    const chain = createAuthenticatorChain([auth]);
    const refused = async (input: AuthInput, code: string) =>
      assert.rejects(
        chain(input),
        (e: unknown) => e instanceof GatewayError && e.status === 400 && e.code === code && /invalid_request/.test(e.headers['WWW-Authenticate'] ?? ''),
      );
    const t = await idp.tokenFor('alice');
    await refused(authInput({ headers: { authorization: [`Bearer ${t}`, `Bearer ${t}`] } }), 'multiple_credentials');
    await refused(authInput({ headers: { authorization: `Bearer ${t}, Basic Zm9vOmJhcg==` } }), 'invalid_request');
    await refused(authInput({ path: `/api/pool?access_token=${t}` }), 'invalid_request');
    assert.equal(failCode(await auth.authenticate(authInput({ headers: { authorization: 'Basic Zm9vOmJhcg==' } }))), 'skip');
    assert.equal(failCode(await auth.authenticate(bearer('cgk_abc_def'))), 'skip');
    assert.equal(failCode(await auth.authenticate(authInput())), 'skip');
  });

  test('key rotation at the provider keeps working (unknown kid triggers a refetch)', async () => {
    const auth = createBearerAuthenticator({ issuers: [issuerConfigFor(idp)], token_cache: cacheCfg });
    assert.equal(failCode(await auth.authenticate(bearer(await idp.tokenFor('alice')))), 'ok');
    const before = idp.currentKid();
    await idp.rotateKeys();
    assert.notEqual(idp.currentKid(), before);
    assert.equal(failCode(await auth.authenticate(bearer(await idp.tokenFor('bob')))), 'ok');
  });

  test('unknown kids refetch the JWKS at most once per cooldown', async () => {
    let jwksFetches = 0;
    const counting = (url: string | URL, init?: RequestInit) => {
      if (String(url).endsWith('/jwks')) jwksFetches++;
      return fetch(url, init);
    };
    const auth = createBearerAuthenticator({ issuers: [issuerConfigFor(idp, { jwks_cooldown_seconds: 60 })], token_cache: cacheCfg }, { fetch: counting });
    assert.equal(failCode(await auth.authenticate(bearer(await idp.tokenFor('alice')))), 'ok');
    for (let i = 0; i < 20; i++) assert.equal(failCode(await auth.authenticate(bearer(await foreignKeyToken(goodClaims(idp), `flood-${i}`)))), 'invalid_token');
    assert.ok(jwksFetches <= 2, `JWKS fetched ${jwksFetches} times`);
  });

  test('provider down: cached keys keep valid tokens working, a new unknown kid fails closed', async () => {
    const idp2 = await startDevIdp();
    const auth = createBearerAuthenticator({ issuers: [issuerConfigFor(idp2)], token_cache: { max_entries: 0, max_ttl_seconds: 0 } });
    const t1 = await idp2.tokenFor('alice');
    const t2 = await idp2.tokenFor('dave');
    assert.equal(failCode(await auth.authenticate(bearer(t1))), 'ok');
    await idp2.rotateKeys();
    const rotated = await idp2.tokenFor('erin');
    await idp2.stop();
    assert.equal(failCode(await auth.authenticate(bearer(t2))), 'ok', 'known key, token cache disabled');
    assert.equal(failCode(await auth.authenticate(bearer(rotated))), 'invalid_token', 'new kid while the provider is down');
  });

  test('the verified-token cache never serves past exp and is keyed by the validation inputs', async () => {
    let nowMs = Date.now();
    const auth = createBearerAuthenticator({ issuers: [issuerConfigFor(idp, { clock_skew_seconds: 0 })], token_cache: cacheCfg }, { now: () => nowMs });
    const exp = Math.floor(nowMs / 1000) + 5;
    const t = await idp.signRaw(goodClaims(idp, { exp }));
    assert.equal(failCode(await auth.authenticate(bearer(t))), 'ok');
    assert.equal(auth.cache.size, 1);
    nowMs = exp * 1000 + 1;
    assert.equal(failCode(await auth.authenticate(bearer(t))), 'expired_token');
    // The same token under another audience setting is verified afresh, not served from cache.
    const strict = createBearerAuthenticator({ issuers: [issuerConfigFor(idp, { audiences: ['other'] })], token_cache: cacheCfg });
    const fresh = await idp.tokenFor('alice');
    assert.equal(failCode(await auth.authenticate(bearer(fresh))), 'ok');
    assert.equal(failCode(await strict.authenticate(bearer(fresh))), 'invalid_token');
  });
});
