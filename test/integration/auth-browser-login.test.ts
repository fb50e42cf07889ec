// Browser login end to end with real Chromium (playwright-core) and the real dev OIDC provider: login at the
// provider, the session cookie on a protected endpoint, CSRF on mutations, groups refresh, logout, open redirects.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { serve } from '@hono/node-server';
import type { Hono } from 'hono';
import { type Browser, chromium } from 'playwright-core';
import { type DevIdp, startDevIdp } from '../../scripts/dev-idp/provider.ts';
import { createBearerAuthenticator } from '../../src/auth/bearer.ts';
import { type BrowserLogin, createBrowserLogin } from '../../src/auth/browser/login.ts';
import { createBrowserSessionStore } from '../../src/auth/browser/session-store.ts';
import { createAuthenticatorChain } from '../../src/auth/chain.ts';
import { browserLoginSchema, sessionsSchema } from '../../src/config/identity.ts';
import type { HttpMethod } from '../../src/core/http.ts';
import { type Database, openDatabase } from '../../src/db/database.ts';
import { migrateDatabase } from '../../src/db/migrate.ts';
import { createTrustedProxies } from '../../src/intake/trusted-proxies.ts';
import { createLogger } from '../../src/telemetry/logger.ts';
import { createMetrics } from '../../src/telemetry/metrics.ts';
import { createWebApp } from '../../src/web/app.ts';
import type { AppEnv } from '../../src/web/env.ts';
import { createLoginRoutes } from '../../src/web/login.ts';
import { CHROMIUM_ARGS } from '../support/chromium.ts';
import { LogCapture } from '../support/doubles.ts';
import { issuerConfigFor } from '../support/oidc.ts';

const CHROMIUM = process.env.CEPHGATE_TEST_CHROMIUM ?? '/usr/bin/chromium';

describe('browser login with real Chromium', () => {
  let idp: DevIdp;
  let db: Database;
  let browser: Browser;
  let gw: string;
  let login: BrowserLogin;
  let closeServer: () => void;
  let clockOffsetMs = 0;
  const missing = existsSync(CHROMIUM) ? null : `no Chromium at ${CHROMIUM} (apt-get install chromium)`;

  before(async () => {
    if (missing !== null) return;
    let app: Hono<AppEnv> | null = null;
    const server = serve({ fetch: (req, env) => (app as Hono<AppEnv>).fetch(req, env), port: 0, hostname: '127.0.0.1' });
    await new Promise<void>((r) => (server.listening ? r() : server.once('listening', () => r())));
    gw = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    closeServer = () => server.close();
    idp = await startDevIdp({ redirectUris: [`${gw}/gateway/callback`], postLogoutRedirectUris: [`${gw}/gateway/`] });
    db = await openDatabase({ pgliteDir: 'memory://' });
    await migrateDatabase(db);
    const issuer = issuerConfigFor(idp);
    login = createBrowserLogin({
      publicUrl: gw,
      issuer,
      login: browserLoginSchema.parse({ enabled: true, issuer: 'dev', client_id: idp.browserClient.clientId, scopes: 'openid profile email groups' }),
      sessions: sessionsSchema.parse({ groups_refresh_seconds: 300 }),
      clientSecret: idp.browserClient.clientSecret,
      encryptionKey: randomBytes(32),
      store: createBrowserSessionStore(db.db),
      now: () => new Date(Date.now() + clockOffsetMs),
    });
    const chain = createAuthenticatorChain([
      createBearerAuthenticator({ issuers: [issuer], token_cache: { max_entries: 100, max_ttl_seconds: 60 } }),
      login.authenticator,
    ]);
    // The gateway's web app (intake, error mapping) with the login routes and a protected endpoint.
    const log = createLogger({ level: 'silent', format: 'json' }, new LogCapture());
    app = createWebApp(
      { trustedProxies: createTrustedProxies([]), now: () => new Date(), log, metrics: createMetrics({ defaultMetrics: false }) },
      {
        gatewayRoutes: (a) => {
          a.route('/', createLoginRoutes(login));
          a.get('/', (c) => c.text('signed out'));
          a.on(['GET', 'POST'], '/api/thing', async (c) => {
            const s = c.get('state');
            const p = await chain({ method: c.req.method as HttpMethod, headers: s.headers, target: s.target, clientIp: s.clientIp });
            return c.json({ id: p.id, groups: p.groups, method: p.method });
          });
        },
      },
    );
    browser = await chromium.launch({ executablePath: CHROMIUM, args: [...CHROMIUM_ARGS] });
  });

  after(async () => {
    await browser?.close();
    closeServer?.();
    await idp?.stop();
    await db?.close();
  });

  const get = (path: string, cookie?: string) => fetch(`${gw}${path}`, { redirect: 'manual', headers: cookie ? { cookie } : {} });

  test('login at the IdP, session cookie works, CSRF guards mutations, logout ends it', async (t) => {
    if (missing !== null) {
      if (process.env.CI === 'true') throw new Error(`required under CI=true: chromium: ${missing}`);
      console.log(`# skipped: ${missing}`);
      return t.skip(missing);
    }
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${gw}/gateway/login?rd=/api/thing`);
    assert.ok(page.url().startsWith(idp.issuer), 'at the provider login page');
    await page.fill('#username', 'alice');
    await page.fill('#password', 'demo');
    await Promise.all([page.waitForURL(`${gw}/api/thing`), page.click('#submit')]);
    const me = JSON.parse((await page.textContent('body')) ?? '{}') as { id: string; groups: string[]; method: string };
    assert.deepEqual(me, { id: `${idp.issuer}#alice`, groups: ['team-a'], method: 'session' });

    const cookies = await context.cookies(gw);
    const session = cookies.find((c) => c.name === 'cephgate_session');
    assert.ok(session, 'session cookie set');
    assert.equal(session.httpOnly, true);
    assert.equal(session.sameSite, 'Lax');
    assert.ok(!cookies.some((c) => c.name === 'cephgate_session_login'), 'login-state cookie cleared');
    const cookie = `cephgate_session=${session.value}`;

    // The cookie works outside the browser too (it is a bearer credential: HttpOnly keeps scripts off it).
    assert.equal((await get('/api/thing', cookie)).status, 200);

    // Mutations: without the CSRF token 403; with whoami's token from the same origin 200.
    const results = await page.evaluate(async () => {
      const noToken = await fetch('/api/thing', { method: 'POST' });
      const who = await (await fetch('/gateway/whoami')).json();
      const withToken = await fetch('/api/thing', { method: 'POST', headers: { 'X-CSRF-Token': who.csrf_token } });
      return { noToken: noToken.status, withToken: withToken.status, whoId: who.id };
    });
    assert.deepEqual(results, { noToken: 403, withToken: 200, whoId: `${idp.issuer}#alice` });

    // Bearer + session cookie on one request: refused, not merged.
    const both = await fetch(`${gw}/api/thing`, { headers: { cookie, authorization: `Bearer ${await idp.tokenFor('bob')}` } });
    assert.equal(both.status, 400);

    // Groups are refreshed from the IdP once the interval has passed.
    idp.setGroups('alice', ['team-a', 'operators']);
    clockOffsetMs = 301_000;
    const refreshed = (await (await get('/api/thing', cookie)).json()) as { groups: string[] };
    assert.deepEqual(refreshed.groups, ['operators', 'team-a']);

    // Logout: session ended server-side, the browser goes through the IdP end-session endpoint and back.
    await page.goto(`${gw}/gateway/logout`);
    await page.waitForURL(`${gw}/gateway/`);
    const after = await get('/api/thing', cookie);
    assert.equal(after.status, 401);
    assert.equal(((await after.json()) as { code: string }).code, 'invalid_token');
    assert.equal((await get('/gateway/whoami', cookie)).status, 401);

    // Login again: a new session id (no fixation), the old cookie stays dead.
    await page.goto(`${gw}/gateway/login?rd=/api/thing`);
    if (page.url().startsWith(idp.issuer)) {
      await page.fill('#username', 'alice');
      await page.fill('#password', 'demo');
      await Promise.all([page.waitForURL(`${gw}/api/thing`), page.click('#submit')]);
    }
    const second = (await context.cookies(gw)).find((c) => c.name === 'cephgate_session');
    assert.ok(second && second.value !== session.value, 'new session id');
    assert.equal((await get('/api/thing', cookie)).status, 401);

    // The user disappears at the IdP: the next refresh fails and the session ends.
    idp.removeUser('alice');
    clockOffsetMs += 301_000;
    assert.equal((await get('/api/thing', `cephgate_session=${second.value}`)).status, 401);
    await context.close();
  });

  test('open redirects on login and logout are refused', async (t) => {
    if (missing !== null) return t.skip(missing);
    for (const rd of [
      '//evil.example',
      '/\\evil.example',
      '/%09/evil.example',
      '/%2f%2fevil.example',
      'https://evil.example',
      '/%5Cevil',
      '//user@evil.example',
      '/ /evil',
    ]) {
      for (const path of ['/gateway/login', '/gateway/logout']) {
        const r = await get(`${path}?rd=${encodeURIComponent(rd)}`);
        assert.equal(r.status, 400, `${path} rd=${rd}`);
        assert.equal(r.headers.get('location'), null);
      }
    }
    // In the real browser too: the login page never leaves for the evil host.
    const page = await browser.newPage();
    const res = await page.goto(`${gw}/gateway/login?rd=//evil.example/`);
    assert.equal(res?.status(), 400);
    assert.ok(page.url().startsWith(gw));
    await page.close();
    // A forged callback (no login-state cookie) is refused.
    assert.equal((await get('/gateway/callback?code=abc&state=xyz')).status, 400);
  });
});
