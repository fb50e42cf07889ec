// The authenticator chain: first non-skip decides, one credential per request, RFC 6750 challenges.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createAuthenticatorChain, type DetectingAuthenticator } from '../../src/auth/chain.ts';
import { GatewayError } from '../../src/core/errors.ts';
import type { AuthResult, Principal } from '../../src/core/principal.ts';
import { authInput } from '../support/oidc.ts';

const principal: Principal = {
  id: 'x#alice',
  name: 'alice',
  email: null,
  groups: [],
  method: 'oidc_bearer',
  authenticatedAt: new Date(),
  apiKeyName: null,
  claims: {},
};

function fake(name: string, result: AuthResult, header?: string): DetectingAuthenticator & { calls: number } {
  const a = {
    name,
    calls: 0,
    detects: (i: Parameters<NonNullable<DetectingAuthenticator['detects']>>[0]) => header !== undefined && i.headers.has(header),
    async authenticate() {
      a.calls++;
      return result;
    },
  };
  return a;
}

async function rejects(p: Promise<unknown>, status: number, code: string): Promise<GatewayError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof GatewayError);
    assert.equal(err.status, status);
    assert.equal(err.code, code);
    return err;
  }
  assert.fail('expected a GatewayError');
}

test('first non-skip decides; later authenticators are not asked', async () => {
  const later = fake('later', { kind: 'fail', code: 'invalid_token', detail: 'x' });
  const chain = createAuthenticatorChain([fake('a', { kind: 'skip' }), fake('b', { kind: 'ok', principal }), later]);
  assert.equal(await chain(authInput()), principal);
  assert.equal(later.calls, 0);
});

test('no credential: 401 unauthenticated with a Bearer challenge', async () => {
  const err = await rejects(createAuthenticatorChain([fake('a', { kind: 'skip' })])(authInput()), 401, 'unauthenticated');
  assert.equal(err.headers['WWW-Authenticate'], 'Bearer realm="cephgate"');
});

test('failure: 401 invalid_token, library error only in cause', async () => {
  const cause = new Error('JWSSignatureVerificationFailed: secret details');
  const err = await rejects(
    createAuthenticatorChain([fake('a', { kind: 'fail', code: 'expired_token', detail: 'The access token has expired.', cause })])(authInput()),
    401,
    'invalid_token',
  );
  assert.equal(err.headers['WWW-Authenticate'], 'Bearer realm="cephgate", error="invalid_token"');
  assert.equal(err.cause, cause);
  assert.doesNotMatch(err.message, /secret/);
});

test('malformed request: 400 invalid_request; CSRF: 403', async () => {
  await rejects(createAuthenticatorChain([fake('a', { kind: 'fail', code: 'invalid_request', detail: 'bad' })])(authInput()), 400, 'invalid_request');
  await rejects(createAuthenticatorChain([fake('a', { kind: 'fail', code: 'csrf_failed', detail: 'csrf' })])(authInput()), 403, 'csrf_failed');
});

test('multiple_credentials_refused: two Authorization headers, or bearer plus session cookie', async () => {
  const ok = fake('ok', { kind: 'ok', principal }, 'authorization');
  const cookie = fake('session', { kind: 'ok', principal }, 'cookie');
  const chain = createAuthenticatorChain([ok, cookie]);
  await rejects(chain(authInput({ headers: { authorization: ['Bearer a', 'Bearer b'] } })), 400, 'multiple_credentials');
  await rejects(chain(authInput({ headers: { authorization: 'Bearer a', cookie: 's=1' } })), 400, 'multiple_credentials');
  assert.equal(ok.calls + cookie.calls, 0);
});

test('token_in_query_refused: access_token in the query string is a 400 even with nothing else', async () => {
  await rejects(createAuthenticatorChain([fake('a', { kind: 'ok', principal })])(authInput({ path: '/api/pool?access_token=abc' })), 400, 'invalid_request');
});
