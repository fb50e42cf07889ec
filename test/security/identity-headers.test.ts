// docs/security.md class 2 (identity material from the client): what a client sends as identity never
// reaches Ceph (recording stub upstream: exact headers), and ambiguous credentials are refused by the
// real authenticator chain in front of the real Ceph (nothing forwarded, refusal audited).

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { MemoryAudit, staticUpstream, testConfig, testDeps } from '../support/doubles.ts';
import { type FullGateway, startFullGateway } from '../support/full-gateway.ts';
import { type RunningGateway, startGateway } from '../support/gateway.ts';
import { rawRequest } from '../support/raw-http.ts';
import { need, testEnv } from '../support/requirements.ts';
import { jsonAnswer, type StubUpstream, startStubUpstream } from '../support/stub-upstream.ts';
import { auditRowsOf, call, requestIdOf } from './support.ts';

const IDENTITY = {
  authorization: 'Bearer client-token',
  cookie: 'token=client-ceph-jwt; session=abc',
  'x-access-token': 'client-oauth2-token',
  'x-forwarded-for': '10.9.9.9',
  'x-forwarded-host': 'evil.example',
  'x-forwarded-proto': 'https',
  'x-forwarded-uri': '/api/user',
  'x-forwarded-prefix': '/evil',
  'x-original-url': '/api/user',
  'x-rewrite-url': '/api/user',
  forwarded: 'for=10.9.9.9;host=evil.example;proto=https',
  x_forwarded_for: '10.8.8.8',
  x_access_token: 'underscore-token',
  'x-remote-user': 'admin',
  'x-forwarded-user': 'admin',
  'x-auth-request-user': 'admin',
  'x-auth-request-email': 'admin@example.test',
  'remote-user': 'admin',
  'proxy-authorization': 'Basic YWRtaW46YWRtaW4=',
  'x-http-method-override': 'DELETE',
  'x-real-ip': '10.7.7.7',
  'client-ip': '10.7.7.7',
};

describe('identity headers never reach upstream (recording stub)', () => {
  let stub: StubUpstream;
  let gw: RunningGateway;
  before(async () => {
    stub = await startStubUpstream(jsonAnswer(200, { ok: true }));
    gw = await startGateway(testDeps({ config: testConfig(), upstream: staticUpstream(stub.url), audit: new MemoryAudit() }));
  });
  after(async () => {
    await gw.close();
    await stub.close();
  });

  test('client identity and forwarding headers are all stripped, the gateway sets its own', async () => {
    const lines = Object.entries(IDENTITY)
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join('');
    const res = await rawRequest(gw.port, [`GET /api/pool HTTP/1.1\r\nHost: x\r\n${lines}Connection: close\r\n\r\n`]);
    assert.equal(res.status, 200);
    const got = stub.received.at(-1);
    assert.ok(got);
    const names = new Set(Object.keys(got.headers));
    for (const h of [
      'authorization',
      'cookie',
      'x-access-token',
      'x-forwarded-uri',
      'x-forwarded-prefix',
      'x-original-url',
      'x-rewrite-url',
      'x_forwarded_for',
      'x_access_token',
      'x-remote-user',
      'x-forwarded-user',
      'x-auth-request-user',
      'x-auth-request-email',
      'remote-user',
      'proxy-authorization',
      'x-http-method-override',
      'x-real-ip',
      'client-ip',
    ]) {
      assert.equal(names.has(h), false, `${h} must not be forwarded`);
    }
    // The gateway's own forwarding headers, describing the real peer, not the client's claims.
    assert.equal(got.headers['x-forwarded-for'], '127.0.0.1');
    assert.notEqual(got.headers['x-forwarded-host'], 'evil.example');
    assert.equal(String(got.headers.forwarded).includes('evil'), false);
    assert.equal(got.rawHeaders.filter((h) => h.toLowerCase() === 'x-forwarded-for').length, 1);
  });

  test('Connection-listed headers are hop-by-hop and never forwarded (nominating Authorization away or a header in)', async () => {
    await rawRequest(gw.port, [
      'GET /api/pool HTTP/1.1\r\nHost: x\r\nConnection: close, content-type, x-request-id\r\nContent-Type: application/json\r\nTE: trailers\r\nUpgrade: h2c\r\n\r\n',
    ]);
    const got = stub.received.at(-1);
    assert.ok(got);
    assert.equal(got.headers['content-type'], undefined);
    assert.equal(got.headers.te, undefined);
    assert.equal(got.headers.upgrade, undefined);
  });

  test('a request id from an untrusted peer is replaced, so it cannot be forged into logs or Ceph', async () => {
    await rawRequest(gw.port, ['GET /api/pool HTTP/1.1\r\nHost: x\r\nX-Request-Id: forged-id-1234\r\nConnection: close\r\n\r\n']);
    const got = stub.received.at(-1);
    assert.notEqual(got?.headers['x-request-id'], 'forged-id-1234');
  });

  test('CR/LF in a header value never reaches upstream headers (the parser refuses it)', async () => {
    const before = stub.received.length;
    const res = await rawRequest(gw.port, ['GET /api/pool HTTP/1.1\r\nHost: x\r\nUser-Agent: a\rX-Injected: 1\r\nConnection: close\r\n\r\n']);
    assert.equal(res.status, 400);
    assert.equal(stub.received.length, before);
  });

  test('obsolete line folding cannot smuggle a second header', async () => {
    const before = stub.received.length;
    const res = await rawRequest(gw.port, ['GET /api/pool HTTP/1.1\r\nHost: x\r\nUser-Agent: a\r\n Authorization: Bearer x\r\nConnection: close\r\n\r\n']);
    assert.equal(res.status, 400);
    assert.equal(stub.received.length, before);
  });
});

describe('ambiguous credentials are refused (real authenticators, real Ceph)', () => {
  let gw: FullGateway | null = null;
  before(async () => {
    if (testEnv.cephUrl) gw = await startFullGateway();
  });
  after(async () => {
    await gw?.close();
  });
  const g = () => gw as FullGateway;

  async function refused(headers: Record<string, string | string[]>, path: string, status: number, code: string) {
    const res = await call(g().url, 'GET', path, { headers });
    assert.equal(res.status, status, res.text);
    assert.equal(res.json?.code, code);
    if (status === 401) assert.ok(res.headers['www-authenticate'], 'a 401 carries a challenge');
    const rows = await auditRowsOf(g(), requestIdOf(res));
    assert.equal(rows.length, 1, 'the refusal is audited');
    assert.equal(rows[0]?.upstream_status, null);
  }

  test('two Authorization headers are refused, not merged or picked', async (t) => {
    if (!need(t, 'ceph')) return;
    const alice = await g().token('alice');
    await refused({ authorization: [`Bearer ${alice}`, `Bearer ${await g().token('erin')}`] }, '/api/pool', 400, 'multiple_credentials');
  });

  test('a folded Authorization list (Bearer a, Basic b) is refused', async (t) => {
    if (!need(t, 'ceph')) return;
    await refused({ authorization: `Bearer ${await g().token('alice')}, Basic YTpi` }, '/api/pool', 400, 'invalid_request');
  });

  test('a token in the query string is refused even beside a good header', async (t) => {
    if (!need(t, 'ceph')) return;
    const alice = await g().token('alice');
    await refused({ authorization: `Bearer ${alice}` }, `/api/pool?access_token=${alice}`, 400, 'invalid_request');
  });

  test('a Ceph token cookie alone is not a credential (Ceph would prefer it)', async (t) => {
    if (!need(t, 'ceph')) return;
    await refused({ cookie: 'token=eyJhbGciOiJIUzI1NiJ9.e30.x' }, '/api/pool', 401, 'unauthenticated');
  });

  test('X-Access-Token alone is not a credential (Tentacle OAuth2 mode reads it unverified)', async (t) => {
    if (!need(t, 'ceph')) return;
    await refused({ 'x-access-token': await g().token('erin') }, '/api/pool', 401, 'unauthenticated');
  });

  test('an unknown scheme (Basic with the Ceph admin password) is not a credential', async (t) => {
    if (!need(t, 'ceph')) return;
    const basic = Buffer.from(`admin:${testEnv.cephAdminPassword}`).toString('base64');
    await refused({ authorization: `Basic ${basic}` }, '/api/pool', 401, 'unauthenticated');
  });

  test('a Bearer with a lower-case scheme and extra spaces is still one credential', async (t) => {
    if (!need(t, 'ceph')) return;
    const res = await call(g().url, 'GET', '/api/health/minimal', { headers: { authorization: `bearer   ${await g().token('carol')}` } });
    assert.equal(res.status, 200, res.text);
  });
});
