// docs/security.md class 6 (exposure) and response hygiene, through the whole gateway in front of the real
// Ceph: Ceph's unauthenticated paths and the admin endpoints are not on the public listener, errors
// carry no upstream internals or stack traces, gateway pages carry security headers, and no secret
// used in the run (Ceph passwords, tokens) appears anywhere in the captured log output.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { TEST_ACCOUNTS } from '../support/ceph-cli.ts';
import { type FullGateway, startFullGateway } from '../support/full-gateway.ts';
import { rawRequest } from '../support/raw-http.ts';
import { need, testEnv } from '../support/requirements.ts';
import { call } from './support.ts';

let gw: FullGateway | null = null;
const g = () => gw as FullGateway;
const tokensUsed: string[] = [];

async function tok(user: string): Promise<string> {
  const t = await g().token(user);
  tokensUsed.push(t);
  return t;
}

describe('exposure', () => {
  before(async () => {
    if (testEnv.cephUrl) gw = await startFullGateway();
  });
  after(async () => {
    await gw?.close();
  });

  for (const [method, path] of [
    ['POST', '/api/auth/check'],
    ['GET', '/docs/openapi.json'],
    ['GET', '/docs'],
    ['POST', '/api/prometheus_receiver'],
    ['POST', '/ui-api/logging/js-error'],
    ['GET', '/ui-api/langs'],
    ['GET', '/ui-api/login/custom_banner'],
    ['GET', '/auth/saml2/metadata'],
    ['POST', '/api/auth'],
    ['POST', '/api/auth/logout'],
  ] as const) {
    test(`Ceph's unauthenticated ${method} ${path} is not reachable without a decision`, async (t) => {
      if (!need(t, 'ceph')) return;
      const anon = await call(g().url, method, path, { body: '{"username":"admin","password":"x","message":"injected"}' });
      assert.ok([401, 404].includes(anon.status), `${anon.status} ${anon.text}`);
      assert.ok(['unauthenticated', 'unknown_route', 'not_found'].includes(String(anon.json?.code)));
      // Even breakglass does not get Ceph's own login/logout or the js-error log writer forwarded.
      const erin = await call(g().url, method, path, { token: await tok('erin'), body: '{"username":"admin","password":"x","message":"injected"}' });
      assert.ok(erin.status >= 400 && erin.status < 500 && erin.status !== 415, `${erin.status} ${erin.text}`);
    });
  }

  test('metrics, health detail and readiness are not on the public listener', async (t) => {
    if (!need(t, 'ceph')) return;
    for (const p of ['/metrics', '/healthz', '/readyz', '/admin/metrics']) {
      const res = await call(g().url, 'GET', p);
      assert.equal(res.status, 404, p);
      assert.equal(res.json?.code, 'not_found');
    }
    const admin = await call(g().adminUrl, 'GET', '/metrics');
    assert.equal(admin.status, 200);
  });

  test('the metrics page holds no secrets or principal identities', async (t) => {
    if (!need(t, 'ceph')) return;
    await call(g().url, 'GET', '/api/health/minimal', { token: await tok('carol') });
    const text = (await call(g().adminUrl, 'GET', '/metrics')).text;
    for (const a of TEST_ACCOUNTS) assert.equal(text.includes(a.password), false);
    for (const t2 of tokensUsed) assert.equal(text.includes(t2), false);
  });

  test('errors carry no upstream internals or stack traces', async (t) => {
    if (!need(t, 'ceph')) return;
    const erin = await tok('erin');
    const cases = [
      await call(g().url, 'GET', '/api/pool/does-not-exist-xyz', { token: erin }),
      await call(g().url, 'POST', '/api/pool', { token: erin, body: '{"pool": ' }),
      await call(g().url, 'GET', '/api/nope', { token: erin }),
      await call(g().url, 'GET', '/api/pool/%C3%28', { token: erin }),
      await call(g().url, 'GET', '/api/pool', { token: 'a.b.c' }),
    ];
    for (const res of cases) {
      assert.ok(res.status >= 400);
      for (const leak of ['Traceback', 'at async', '.py"', 'node_modules', '/src/', 'cherrypy', 'undici', 'SyntaxError']) {
        assert.equal(res.text.includes(leak), false, `${leak} in ${res.text.slice(0, 200)}`);
      }
      assert.equal(res.headers.server, undefined, 'no upstream server fingerprint');
      assert.equal(res.headers['set-cookie'], undefined, "Ceph's token cookie never reaches the client");
    }
  });

  test('gateway pages carry security headers', async (t) => {
    if (!need(t, 'ceph')) return;
    for (const [p, who] of [
      ['/gateway/whoami', 'alice'],
      ['/gateway/v1/audit?limit=1', 'dave'],
      ['/gateway/v1/audit?limit=1', 'alice'],
      ['/gateway/whoami', ''],
    ] as const) {
      const res = await call(g().url, 'GET', p, who ? { token: await tok(who) } : {});
      assert.equal(res.headers['x-content-type-options'], 'nosniff', p);
      assert.equal(res.headers['x-frame-options'], 'DENY', p);
      assert.match(String(res.headers['content-security-policy']), /frame-ancestors 'none'/);
      assert.equal(res.headers['cache-control'], 'no-store');
      assert.equal(res.headers['referrer-policy'], 'no-referrer');
    }
  });

  test('whoami never echoes the bearer token back', async (t) => {
    if (!need(t, 'ceph')) return;
    const alice = await tok('alice');
    const res = await call(g().url, 'GET', '/gateway/whoami', { token: alice });
    assert.equal(res.status, 200);
    assert.equal(res.text.includes(alice), false);
    assert.equal(res.text.includes(alice.split('.')[2] as string), false);
  });

  test('TRACE/OPTIONS/CONNECT are not served (no reflection of credentials)', async (t) => {
    if (!need(t, 'ceph')) return;
    const res = await rawRequest(g().port, [`TRACE /api/pool HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${await tok('erin')}\r\nConnection: close\r\n\r\n`]);
    assert.equal(res.status, 405);
    assert.equal(res.body.includes('Bearer'), false);
  });

  // Runs last: greps everything the gateway logged during this file for every secret it used.
  test('no secret used in this run appears in the captured log output', async (t) => {
    if (!need(t, 'ceph')) return;
    await call(g().url, 'GET', '/api/pool', {
      token: await tok('carol'),
      headers: { cookie: 'token=client-cookie-secret-123', 'x-access-token': 'client-xat-secret-456' },
    });
    await call(g().url, 'GET', `/api/pool?access_token=${await tok('alice')}`);
    const secrets = [
      ...TEST_ACCOUNTS.map((a) => a.password),
      testEnv.cephAdminPassword as string,
      ...tokensUsed,
      ...tokensUsed.map((t2) => t2.split('.')[2] as string),
      'client-cookie-secret-123',
      'client-xat-secret-456',
    ].filter(Boolean);
    const log = g().logs.lines.join('\n');
    assert.ok(g().logs.lines.length > 20, 'the run logged');
    for (const secret of secrets) assert.equal(log.includes(secret), false, `secret ${secret.slice(0, 6)}... found in the logs`);
  });
});
