// Browser login through the whole gateway with real Chromium: login at the real dev OIDC provider,
// back to the gateway, a Ceph API call with the session cookie, CSRF on cookie-authenticated
// mutations, logout, and the old cookie refused afterwards.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type Browser, chromium } from 'playwright-core';
import { CHROMIUM_ARGS } from '../support/chromium.ts';
import { type FullGateway, startFullGateway } from '../support/full-gateway.ts';
import { need, testEnv } from '../support/requirements.ts';

let gw: FullGateway | null = null;
let browser: Browser | null = null;

before(async () => {
  if (!testEnv.cephUrl || !testEnv.chromium) return;
  gw = await startFullGateway({ browserLogin: true });
  browser = await chromium.launch({ executablePath: testEnv.chromium, args: [...CHROMIUM_ARGS] });
});
after(async () => {
  await browser?.close();
  await gw?.close();
});

test('a browser logs in, calls Ceph with its session, is held to CSRF, logs out', async (t) => {
  if (!need(t, 'ceph', 'chromium')) return;
  const g = gw as FullGateway;
  const context = await (browser as Browser).newContext();
  const page = await context.newPage();

  // A page of the gateway without a session sends the browser to login.
  await page.goto(`${g.url}/gateway/login?rd=/api/health/minimal`);
  assert.ok(page.url().startsWith(g.idp.issuer), `at the provider: ${page.url()}`);
  await page.fill('#username', 'alice');
  await page.fill('#password', 'demo');
  await Promise.all([page.waitForURL(`${g.url}/api/health/minimal`), page.click('#submit')]);
  const health = JSON.parse((await page.textContent('body')) ?? '{}') as Record<string, unknown>;
  assert.ok('health' in health, 'the real Ceph answered through the session');

  const suffix = Math.random().toString(36).slice(2, 8);
  const results = await page.evaluate(async (pool) => {
    const body = JSON.stringify({ pool, pg_num: 8, pool_type: 'replicated' });
    const noToken = await fetch('/api/pool', { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    const who = await (await fetch('/gateway/whoami')).json();
    const withToken = await fetch('/api/pool', { method: 'POST', headers: { 'content-type': 'application/json', 'x-csrf-token': who.csrf_token }, body });
    return { noToken: noToken.status, withToken: withToken.status, who: who.id };
  }, `team-a-web-${suffix}`);
  assert.equal(results.noToken, 403, 'a cookie-authenticated mutation without the CSRF token is refused');
  assert.ok([201, 202].includes(results.withToken), `with the CSRF token: ${results.withToken}`);
  assert.equal(results.who, `${g.idp.issuer}#alice`);

  const cookies = await context.cookies();
  const session = cookies.find((c) => c.name.includes('cephgate_session') && !c.name.endsWith('_login'));
  assert.ok(session, 'session cookie set');
  assert.equal(session.httpOnly, true);
  assert.equal(session.sameSite, 'Lax');

  await page.goto(`${g.url}/gateway/logout`);
  await page.waitForURL(`${g.url}/gateway/`);
  const res = await fetch(`${g.url}/api/health/minimal`, { headers: { cookie: `${session.name}=${session.value}` } });
  assert.equal(res.status, 401, 'the old session cookie no longer works');
  await context.close();
});

test('open redirects on login are refused', async (t) => {
  if (!need(t, 'ceph', 'chromium')) return;
  const g = gw as FullGateway;
  for (const rd of ['//evil.example/', '/\\evil.example', '/%09/evil.example', 'https://evil.example/', '/%2F%2Fevil.example']) {
    const res = await fetch(`${g.url}/gateway/login?rd=${encodeURIComponent(rd)}`, { redirect: 'manual' });
    const location = res.headers.get('location') ?? '';
    assert.ok(res.status === 400 || !location.includes('evil.example'), `${rd} -> ${res.status} ${location}`);
  }
});
