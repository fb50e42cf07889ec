// SECURITY.md class 4 (browser flows): open redirects after login/logout (oauth2-proxy's long list of
// `rd=` bypasses), CSRF on cookie-authenticated mutations, sealed state not transferable. Browser login
// is still being wired into the composition root (src/auth/browser, identity helper): what exists is
// tested here on its own; the end-to-end cases are todo until /gateway/login is served by buildGateway.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { safeRedirectPath } from '../../src/auth/browser/redirect.ts';
import { seal, unseal } from '../../src/auth/browser/seal.ts';
import { csrfProblem } from '../../src/auth/browser/session-auth.ts';
import { authInput } from '../support/oidc.ts';
import { fcParams } from './support.ts';

/** Redirect targets that left the origin in oauth2-proxy, Pomerium or Traefik-forward-auth advisories. */
const OPEN_REDIRECTS = [
  '//evil.example', '///evil.example', '////evil.example', '/\\evil.example', '/\\/evil.example', '\\\\evil.example',
  '/%09/evil.example', '/%0a/evil.example', '/%0d/evil.example', '/%20/evil.example', '/\t/evil.example', '/ /evil.example',
  '/%2F/evil.example', '/%2f%2fevil.example', '/%5Cevil.example', '/%5c%5cevil.example', '/.%2F/evil.example',
  'https://evil.example', 'http:evil.example', 'javascript:alert(1)', 'data:text/html,x', ' /ok', '/ok#@evil.example',
  '/@evil.example', '/x@evil.example', '//user:pass@evil.example', '/%40evil.example', '/%252F%252Fevil.example',
  '/\u3002evil.example', '/\uff0f\uff0fevil.example', '\u0000//evil.example', '/\u2028//evil.example',
  '/..//evil.example', '/./\\evil.example', '', 'evil.example', '/' + 'a'.repeat(5000),
];

describe('redirect targets after login and logout', () => {
  for (const rd of OPEN_REDIRECTS) {
    test(`refuses the open redirect ${JSON.stringify(rd.slice(0, 40))}`, () => {
      assert.equal(safeRedirectPath(rd), null);
    });
  }

  test('keeps plain same-origin paths', () => {
    for (const rd of ['/', '/gateway/whoami', '/api/pool?x=1', '/a/b-c_d.e~f']) assert.equal(safeRedirectPath(rd), rd);
  });

  test('whatever it accepts stays on the origin, for any input (property)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 60 }), fc.constantFrom('/', '//', '/\\', '%2f', '%5c', '@', '\t', 'evil').chain((p) => fc.string({ maxLength: 20 }).map((x) => `/${p}${x}`))), (rd) => {
        const out = safeRedirectPath(rd);
        if (out === null) return;
        const base = 'https://gateway.invalid';
        const u = new URL(out, base);
        assert.equal(u.origin, base, `${JSON.stringify(rd)} left the origin`);
        assert.ok(out.startsWith('/') && !out.startsWith('//') && !out.includes('\\'));
      }),
      fcParams(2000),
    );
  });
});

describe('sealed login state', () => {
  test('state sealed for login cannot be replayed as another purpose or with another key', () => {
    const key = randomBytes(32);
    const sealed = seal(key, '{"state":"s","verifier":"v"}', 'cephgate-login-v1');
    assert.equal(unseal(key, sealed, 'cephgate-login-v1'), '{"state":"s","verifier":"v"}');
    assert.equal(unseal(key, sealed, 'cephgate-session-v1'), null);
    assert.equal(unseal(randomBytes(32), sealed, 'cephgate-login-v1'), null);
    const flipped = `${sealed.slice(0, -2)}${sealed.endsWith('A') ? 'B' : 'A'}${sealed.slice(-1)}`;
    assert.equal(unseal(key, flipped, 'cephgate-login-v1'), null);
  });
});

describe('CSRF on cookie-authenticated mutations', () => {
  const origin = 'https://gw.example.test';
  test('a cross-site mutation without the CSRF token is refused', () => {
    const input = authInput({ method: 'POST', headers: { origin: 'https://evil.example', cookie: 'cg_session=x' } });
    assert.notEqual(csrfProblem(input, origin, 'csrf-123'), null);
  });
  test('a same-origin mutation with a wrong CSRF token is refused', () => {
    const input = authInput({ method: 'POST', headers: { origin, 'x-csrf-token': 'csrf-999' } });
    assert.notEqual(csrfProblem(input, origin, 'csrf-123'), null);
  });
  test('a mutation with a null Origin is refused', () => {
    const input = authInput({ method: 'DELETE', headers: { origin: 'null', 'x-csrf-token': 'csrf-123' } });
    assert.notEqual(csrfProblem(input, origin, 'csrf-123'), null);
  });
});

describe('browser login end to end', () => {
  const todo = { todo: 'browser login is not yet mounted by src/server/build.ts (identity helper finishing src/auth/browser)' };
  test('GET /gateway/login?rd=//evil.example never redirects off-origin after the callback', todo, () => {});
  test('a callback with state from another browser (cookie missing or swapped) is refused', todo, () => {});
  test('a session cookie set before login is replaced at login (no fixation)', todo, () => {});
  test('the access and ID tokens never appear in a page or a redirect URL', todo, () => {});
  test('a cookie-authenticated POST /api/pool from another origin is 403 csrf_failed and creates nothing in Ceph', todo, () => {});
  test('rd with ;, CR/LF or quotes cannot inject cookie attributes', todo, () => {});
});
