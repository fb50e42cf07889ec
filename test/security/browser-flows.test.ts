// docs/security.md class 4 (browser flows): open redirects after login/logout (oauth2-proxy's long list of
// `rd=` bypasses), CSRF on cookie-authenticated mutations, sealed state not transferable, session
// fixation, tokens kept out of pages and URLs; the last group runs the whole gateway with real Chromium.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { type Browser, type BrowserContext, chromium } from 'playwright-core';
import { safeRedirectPath } from '../../src/auth/browser/redirect.ts';
import { seal, unseal } from '../../src/auth/browser/seal.ts';
import { csrfProblem } from '../../src/auth/browser/session-auth.ts';
import { cephCli } from '../support/ceph-cli.ts';
import { CHROMIUM_ARGS } from '../support/chromium.ts';
import { type FullGateway, startFullGateway } from '../support/full-gateway.ts';
import { authInput } from '../support/oidc.ts';
import { need, testEnv } from '../support/requirements.ts';
import { fcParams } from './support.ts';

/** Redirect targets that left the origin in oauth2-proxy, Pomerium or Traefik-forward-auth advisories. */
const OPEN_REDIRECTS = [
  '//evil.example',
  '///evil.example',
  '////evil.example',
  '/\\evil.example',
  '/\\/evil.example',
  '\\\\evil.example',
  '/%09/evil.example',
  '/%0a/evil.example',
  '/%0d/evil.example',
  '/%20/evil.example',
  '/\t/evil.example',
  '/ /evil.example',
  '/%2F/evil.example',
  '/%2f%2fevil.example',
  '/%5Cevil.example',
  '/%5c%5cevil.example',
  '/.%2F/evil.example',
  'https://evil.example',
  'http:evil.example',
  'javascript:alert(1)',
  'data:text/html,x',
  ' /ok',
  '/ok#@evil.example',
  '/@evil.example',
  '/x@evil.example',
  '//user:pass@evil.example',
  '/%40evil.example',
  '/%252F%252Fevil.example',
  '/\u3002evil.example',
  '/\uff0f\uff0fevil.example',
  '\u0000//evil.example',
  '/\u2028//evil.example',
  '/..//evil.example',
  '/./\\evil.example',
  '',
  'evil.example',
  '/' + 'a'.repeat(5000),
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
      fc.property(
        fc.oneof(
          fc.string({ unit: 'binary', maxLength: 60 }),
          fc.constantFrom('/', '//', '/\\', '%2f', '%5c', '@', '\t', 'evil').chain((p) => fc.string({ maxLength: 20 }).map((x) => `/${p}${x}`)),
        ),
        (rd) => {
          const out = safeRedirectPath(rd);
          if (out === null) return;
          const base = 'https://gateway.invalid';
          const u = new URL(out, base);
          assert.equal(u.origin, base, `${JSON.stringify(rd)} left the origin`);
          assert.ok(out.startsWith('/') && !out.startsWith('//') && !out.includes('\\'));
        },
      ),
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
    // Change one character in the middle (never a no-op, never only padding bits).
    const mid = Math.floor(sealed.length / 2);
    const flipped = `${sealed.slice(0, mid)}${sealed[mid] === 'A' ? 'B' : 'A'}${sealed.slice(mid + 1)}`;
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
  // The dashboard web UI sends the token as Angular does (X-XSRF-TOKEN, copied from the XSRF-TOKEN cookie):
  // the same double submit, under the same origin checks.
  test("the dashboard UI's X-XSRF-TOKEN is accepted only same-origin and only with the session's token", () => {
    const check = (headers: Record<string, string | string[]>) => csrfProblem(authInput({ method: 'POST', headers }), origin, 'csrf-123');
    assert.equal(check({ origin, 'x-xsrf-token': 'csrf-123' }), null);
    assert.equal(check({ 'sec-fetch-site': 'same-origin', 'x-xsrf-token': 'csrf-123' }), null);
    assert.notEqual(check({ origin, 'x-xsrf-token': 'csrf-999' }), null, 'a wrong token');
    assert.notEqual(check({ origin: 'https://evil.example', 'x-xsrf-token': 'csrf-123' }), null, 'a cross-site page that guessed the token');
    assert.notEqual(check({ 'sec-fetch-site': 'cross-site', 'x-xsrf-token': 'csrf-123' }), null);
    assert.notEqual(check({ origin, 'x-xsrf-token': ['csrf-123', 'csrf-999'] }), null, 'a repeated header');
    assert.notEqual(check({ origin, 'x-csrf-token': 'csrf-999', 'x-xsrf-token': 'csrf-123' }), null, 'a wrong X-CSRF-Token is not rescued by the other header');
  });
});

describe('browser login end to end (whole gateway, real IdP, real Chromium, real Ceph)', () => {
  let gw: FullGateway | null = null;
  let browser: Browser | null = null;
  const g = () => gw as FullGateway;
  before(async () => {
    if (!testEnv.cephUrl || !testEnv.chromium) return;
    gw = await startFullGateway({ browserLogin: true });
    browser = await chromium.launch({ executablePath: testEnv.chromium, args: [...CHROMIUM_ARGS] });
  });
  after(async () => {
    await browser?.close();
    await gw?.close();
  });

  /** Logs alice in through the provider's form; returns the context, the page and every URL the browser visited. */
  async function login(rd: string, preset?: { name: string; value: string }) {
    const context = await (browser as Browser).newContext();
    if (preset) await context.addCookies([{ ...preset, url: g().url }]);
    const page = await context.newPage();
    const visited: string[] = [];
    page.on('framenavigated', (f) => visited.push(f.url()));
    page.on('request', (r) => visited.push(r.url()));
    await page.goto(`${g().url}/gateway/login?rd=${encodeURIComponent(rd)}`);
    if (page.url().startsWith(g().idp.issuer)) {
      await page.fill('#username', 'alice');
      await page.fill('#password', 'demo');
      await Promise.all([page.waitForURL((u) => u.toString().startsWith(g().url)), page.click('#submit')]);
    }
    return { context, page, visited };
  }
  const sessionCookie = async (context: BrowserContext) =>
    (await context.cookies()).find((c) => c.name.includes('cephgate_session') && !c.name.endsWith('_login'));

  test('GET /gateway/login?rd=//evil.example never redirects off-origin after the callback', async (t) => {
    if (!need(t, 'ceph', 'chromium')) return;
    const res = await fetch(`${g().url}/gateway/login?rd=${encodeURIComponent('//evil.example/')}`, { redirect: 'manual' });
    assert.equal(res.status, 400, 'refused before the IdP is even asked');
    const { context, page, visited } = await login('/gateway/whoami');
    assert.ok(page.url().startsWith(g().url));
    assert.equal(
      visited.some((u) => u.includes('evil.example')),
      false,
    );
    await context.close();
  });

  test('a callback with state from another browser (cookie missing or swapped) is refused', async (t) => {
    if (!need(t, 'ceph', 'chromium')) return;
    // A callback URL captured from someone else's login, replayed without their login-state cookie.
    const res = await fetch(`${g().url}/gateway/callback?code=stolen-code&state=stolen-state&iss=${encodeURIComponent(g().idp.issuer)}`, {
      redirect: 'manual',
    });
    assert.equal(res.status, 400);
    assert.equal(res.headers.get('set-cookie')?.includes('cephgate_session=') ?? false, false, 'no session issued');
  });

  test('a session cookie set before login is replaced at login (no fixation)', async (t) => {
    if (!need(t, 'ceph', 'chromium')) return;
    const planted = 'attacker-chosen-session-id-0123456789';
    const { context } = await login('/gateway/whoami', { name: 'cephgate_session', value: planted });
    const cookie = await sessionCookie(context);
    assert.ok(cookie);
    assert.notEqual(cookie.value, planted);
    const withPlanted = await fetch(`${g().url}/gateway/whoami`, { headers: { cookie: `cephgate_session=${planted}` } });
    assert.equal(withPlanted.status, 401, 'the planted id is not a session');
    await context.close();
  });

  test('the access and ID tokens never appear in a page or a redirect URL', async (t) => {
    if (!need(t, 'ceph', 'chromium')) return;
    const { context, page, visited } = await login('/gateway/whoami');
    const body = (await page.textContent('body')) ?? '';
    const jwt = /eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]+/;
    assert.equal(jwt.test(body), false, 'no JWT in the page');
    for (const u of visited) assert.equal(jwt.test(u) || /[?&#](access_token|id_token)=/.test(u), false, `no token in ${u.slice(0, 80)}`);
    for (const c of await context.cookies()) assert.equal(jwt.test(c.value), false, `no JWT in cookie ${c.name}`);
    await context.close();
  });

  test('a cookie-authenticated POST /api/pool from another origin is 403 csrf_failed and creates nothing in Ceph', async (t) => {
    if (!need(t, 'ceph', 'chromium')) return;
    const { context, page } = await login('/gateway/whoami');
    const who = JSON.parse((await page.textContent('body')) ?? '{}') as { csrf_token: string };
    const cookie = await sessionCookie(context);
    assert.ok(cookie);
    const pool = `team-a-csrf-${Math.random().toString(36).slice(2, 8)}`;
    const res = await fetch(`${g().url}/api/pool`, {
      method: 'POST',
      headers: {
        cookie: `${cookie.name}=${cookie.value}`,
        origin: 'https://evil.example',
        'sec-fetch-site': 'cross-site',
        'content-type': 'application/json',
        'x-csrf-token': who.csrf_token,
      },
      body: JSON.stringify({ pool, pg_num: 8, pool_type: 'replicated' }),
    });
    assert.equal(res.status, 403);
    assert.equal(((await res.json()) as { code: string }).code, 'csrf_failed');
    assert.equal((await cephCli(testEnv.cephConf as string, ['osd', 'pool', 'ls'])).split('\n').includes(pool), false);
    await context.close();
  });

  test('rd with ;, CR/LF or quotes cannot inject cookie attributes', async (t) => {
    if (!need(t, 'ceph', 'chromium')) return;
    for (const rd of [
      '/x; Domain=evil.example',
      '/x\r\nSet-Cookie: evil=1',
      '/x"; Path=/evil',
      '/x%3B%20Domain%3Devil.example',
      '/x%0d%0aSet-Cookie:%20evil=1',
    ]) {
      const res = await fetch(`${g().url}/gateway/login?rd=${encodeURIComponent(rd)}`, { redirect: 'manual' });
      const cookies = res.headers.getSetCookie();
      for (const c of cookies) {
        assert.equal(/domain=evil|evil=1|path=\/evil/i.test(c), false, `${rd} -> ${c}`);
      }
    }
  });
});
