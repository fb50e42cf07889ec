// Pure parts of browser login: open-redirect refusal, AES-GCM sealing, CSRF checks, cookie attributes.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { cookiePolicy } from '../../src/auth/browser/cookies.ts';
import { safeRedirectPath } from '../../src/auth/browser/redirect.ts';
import { parseSealKey, seal, unseal } from '../../src/auth/browser/seal.ts';
import { csrfProblem } from '../../src/auth/browser/session-auth.ts';
import { authInput } from '../support/oidc.ts';

test('open_redirect_refused: only same-origin relative paths pass', () => {
  for (const ok of ['/', '/api/pool', '/gateway/whoami?x=1&y=%C3%A9', '/a/b-c_d.e~f']) assert.equal(safeRedirectPath(ok), ok, ok);
  const hostile = [
    '//evil.example',
    '/\\evil.example',
    '\\\\evil.example',
    '/%09/evil.example',
    '/%0a/evil',
    '/%20//evil',
    '/%2f/evil.example',
    '/%2F%2Fevil',
    '/%5cevil',
    '/%5C%5Cevil',
    'https://evil.example',
    'javascript:alert(1)',
    '//user@evil',
    '/@evil',
    '/x@evil.example',
    ' /x',
    '/\t/evil',
    '/\n/evil',
    'evil.example',
    '',
    '/%2e%2e/x',
    '/#//evil',
    '/%23x',
    '/%25%32%66/evil',
    '/\u3002evil',
    'http:/evil',
    '///evil',
  ];
  for (const bad of hostile) assert.equal(safeRedirectPath(bad), null, JSON.stringify(bad));
  assert.equal(safeRedirectPath(undefined), null);
});

test('sealed values open only with the same key and associated data', () => {
  const key = parseSealKey(randomBytes(32).toString('base64'));
  const s = seal(key, 'refresh-token', 'row-1');
  assert.equal(unseal(key, s, 'row-1'), 'refresh-token');
  assert.equal(unseal(key, s, 'row-2'), null, 'bound to its row');
  assert.equal(unseal(parseSealKey(randomBytes(32).toString('hex')), s, 'row-1'), null);
  const parts = s.split('.');
  parts[2] = Buffer.from('tampered').toString('base64url');
  assert.equal(unseal(key, parts.join('.'), 'row-1'), null);
  assert.throws(() => parseSealKey('c2hvcnQ='));
});

test('csrf: same-origin Origin or Sec-Fetch-Site AND the session token', () => {
  const origin = 'https://gw.example';
  const tok = 'csrf-abc';
  const h = (headers: Record<string, string | string[]>) => csrfProblem(authInput({ method: 'POST', headers }), origin, tok);
  assert.equal(h({ origin, 'x-csrf-token': tok }), null);
  assert.equal(h({ 'sec-fetch-site': 'same-origin', 'x-csrf-token': tok }), null);
  assert.notEqual(h({ origin: 'https://evil.example', 'x-csrf-token': tok }), null);
  assert.notEqual(h({ 'sec-fetch-site': 'cross-site', 'x-csrf-token': tok }), null);
  assert.notEqual(h({ origin, 'sec-fetch-site': 'same-site', 'x-csrf-token': tok }), null);
  assert.notEqual(h({ origin }), null, 'token required');
  assert.notEqual(h({ origin, 'x-csrf-token': 'csrf-abd' }), null);
  assert.notEqual(h({ 'x-csrf-token': tok }), null, 'an origin signal required');
  assert.notEqual(h({ origin: [origin, origin], 'x-csrf-token': tok }), null);
});

test('cookies: __Host- and Secure on https, plain only on loopback http, refused otherwise', () => {
  const s = cookiePolicy('https://gw.example', 'cephgate_session');
  assert.equal(s.sessionName, '__Host-cephgate_session');
  assert.match(s.serialize(s.sessionName, 'v', 60), /; Path=\/; HttpOnly; SameSite=Lax; Max-Age=60; Secure$/);
  const d = cookiePolicy('http://127.0.0.1:8080', 'cephgate_session');
  assert.equal(d.sessionName, 'cephgate_session');
  assert.doesNotMatch(d.serialize(d.sessionName, 'v', 60), /Secure/);
  assert.throws(() => cookiePolicy('http://gw.example', 'cephgate_session'));
});
