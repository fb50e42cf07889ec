// docs/security.md class 8 (resource exhaustion): slow-loris headers and bodies are cut off, the verified
// token cache stays bounded under many distinct valid tokens (measured), and many concurrent first
// requests never turn into a login storm that would lock Ceph's service account (10 failures).

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { generateKeyPair, SignJWT } from 'jose';
import { createBearerAuthenticator } from '../../src/auth/bearer.ts';
import { identityConfigSchema } from '../../src/config/identity.ts';
import { cephCli } from '../support/ceph-cli.ts';
import { MemoryAudit, staticUpstream, testConfig, testDeps } from '../support/doubles.ts';
import { type FullGateway, startFullGateway } from '../support/full-gateway.ts';
import { type RunningGateway, startGateway } from '../support/gateway.ts';
import { authInput } from '../support/oidc.ts';
import { rawRequest } from '../support/raw-http.ts';
import { need, testEnv } from '../support/requirements.ts';
import { jsonAnswer, type StubUpstream, startStubUpstream } from '../support/stub-upstream.ts';
import { call, unique } from './support.ts';

describe('slow clients', () => {
  let stub: StubUpstream;
  let gw: RunningGateway;
  before(async () => {
    stub = await startStubUpstream(jsonAnswer(200, { ok: true }));
    gw = await startGateway(
      testDeps({
        config: testConfig({ limits: { header_timeout_ms: 400, body_timeout_ms: 400, max_header_bytes: 4096, max_body_bytes: 4096 } }),
        upstream: staticUpstream(stub.url),
        audit: new MemoryAudit(),
      }),
    );
  });
  after(async () => {
    await gw.close();
    await stub.close();
  });

  test('slow-loris headers (one byte at a time) are cut off with 408, nothing forwarded', async () => {
    const before = stub.received.length;
    const drip: (string | { pauseMs: number })[] = [];
    for (const ch of 'GET /api/pool HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaaaaaa') drip.push(ch, { pauseMs: 50 });
    const started = Date.now();
    const res = await rawRequest(gw.port, drip, 8000);
    assert.equal(res.status, 408);
    assert.equal(JSON.parse(res.body).code, 'request_timeout');
    assert.ok(Date.now() - started < 5000);
    assert.equal(stub.received.length, before);
  });

  test('a body that trickles past the body timeout is 408, nothing forwarded', async () => {
    const before = stub.received.length;
    const res = await rawRequest(gw.port, [
      'POST /api/pool HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"a":',
      { pauseMs: 300 },
      '1',
      { pauseMs: 300 },
      '2',
      { pauseMs: 300 },
      '3',
    ]);
    assert.equal(res.status, 408);
    assert.equal(stub.received.length, before);
  });

  test('a chunked body that never ends is cut off, nothing forwarded', async () => {
    const before = stub.received.length;
    const res = await rawRequest(gw.port, [
      'POST /api/pool HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n1\r\n{\r\n',
      { pauseMs: 1500 },
    ]);
    assert.ok([408, 400].includes(res.status), String(res.status));
    assert.equal(stub.received.length, before);
  });

  test('oversize headers are 431, nothing forwarded', async () => {
    const before = stub.received.length;
    const res = await rawRequest(gw.port, [`GET /api/pool HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(8192)}\r\n\r\n`]);
    assert.equal(res.status, 431);
    assert.equal(JSON.parse(res.body).code, 'header_too_large');
    assert.equal(stub.received.length, before);
  });

  test('many headers (a header-count flood) stay within the header byte limit', async () => {
    const lines = Array.from({ length: 2000 }, (_, i) => `X-H${i}: 1\r\n`).join('');
    const res = await rawRequest(gw.port, [`GET /api/pool HTTP/1.1\r\nHost: x\r\n${lines}\r\n`]);
    assert.equal(res.status, 431);
  });
});

describe('bounded client-keyed caches', () => {
  test('the verified-token cache never grows past max_entries under many distinct valid tokens (measured)', async () => {
    const { publicKey, privateKey } = await generateKeyPair('RS256');
    const issuer = 'https://idp.example.test';
    const identity = identityConfigSchema.parse({
      issuers: [{ name: 'x', issuer, audiences: ['cephgate'] }],
      token_cache: { max_entries: 64, max_ttl_seconds: 300 },
    });
    const bearer = createBearerAuthenticator(identity, { keysFor: () => async () => publicKey });
    const now = Math.floor(Date.now() / 1000);
    let peak = 0;
    for (let i = 0; i < 500; i++) {
      const tok = await new SignJWT({ sub: `u${i}` })
        .setProtectedHeader({ alg: 'RS256' })
        .setIssuer(issuer)
        .setAudience('cephgate')
        .setIssuedAt(now)
        .setExpirationTime(now + 300)
        .sign(privateKey);
      const r = await bearer.authenticate(authInput({ headers: { authorization: `Bearer ${tok}` } }));
      assert.equal(r.kind, 'ok');
      peak = Math.max(peak, bearer.cache.size);
    }
    assert.equal(peak, 64, `peak cache size ${peak} for 500 distinct tokens`);
  });

  test('invalid tokens are never cached (a flood of junk cannot evict good entries or grow memory)', async () => {
    const { publicKey } = await generateKeyPair('RS256');
    const identity = identityConfigSchema.parse({
      issuers: [{ name: 'x', issuer: 'https://idp.example.test', audiences: ['cephgate'] }],
      token_cache: { max_entries: 64, max_ttl_seconds: 300 },
    });
    const bearer = createBearerAuthenticator(identity, { keysFor: () => async () => publicKey });
    const { privateKey } = await generateKeyPair('RS256');
    for (let i = 0; i < 100; i++) {
      const tok = await new SignJWT({ sub: `u${i}` })
        .setProtectedHeader({ alg: 'RS256' })
        .setIssuer('https://idp.example.test')
        .setAudience('cephgate')
        .setExpirationTime('5m')
        .sign(privateKey);
      assert.equal((await bearer.authenticate(authInput({ headers: { authorization: `Bearer ${tok}` } }))).kind, 'fail');
    }
    assert.equal(bearer.cache.size, 0);
  });
});

describe('Ceph logins under load (real Ceph)', () => {
  let gw: FullGateway | null = null;
  const lockUser = `cg-lock-${unique()}`;
  before(async () => {
    if (!testEnv.cephUrl) return;
    await cephCli(testEnv.cephConf as string, ['dashboard', 'ac-user-create', lockUser, '-i', '-', 'read-only', '--force-password'], 'Right-pw-1!');
    process.env.CG_SEC_WRONG_PW = 'Wrong-pw-1!';
    gw = await startFullGateway({
      config: (base) => {
        const ceph = base.ceph as { clusters: Record<string, unknown>[] };
        const c = ceph.clusters[0] as Record<string, unknown>;
        c.accounts = [...(c.accounts as unknown[]), { name: 'locky', username: lockUser, password_env: 'CG_SEC_WRONG_PW' }];
        return base;
      },
    });
  });
  after(async () => {
    await gw?.close();
  });

  test('100 concurrent first requests share one Ceph login', async (t) => {
    if (!need(t, 'ceph')) return;
    const g = gw as FullGateway;
    const carol = await g.token('carol');
    const answers = await Promise.all(Array.from({ length: 100 }, () => call(g.url, 'GET', '/api/health/minimal', { token: carol })));
    // A single-host mgr may time out a few of 100 parallel health calls: those are clean 504s, never 500s.
    assert.ok(answers.filter((a) => a.status === 200).length >= 50, JSON.stringify(answers.map((a) => a.status)));
    assert.ok(answers.every((a) => a.status === 200 || (a.status >= 502 && a.status <= 504 && typeof a.json?.code === 'string')));
    assert.ok(g.gateway.upstream.tokens.loginCount('main', 'reader') <= 1, `logins: ${g.gateway.upstream.tokens.loginCount('main', 'reader')}`);
  });

  test('a wrong service password under many concurrent requests never locks the Ceph account (10 failures)', async (t) => {
    if (!need(t, 'ceph')) return;
    const g = gw as FullGateway;
    // Route requests to the misconfigured account through the policy-independent token manager.
    const attempts = await Promise.allSettled(Array.from({ length: 60 }, () => g.gateway.upstream.tokens.getToken('main', 'locky')));
    assert.ok(attempts.every((a) => a.status === 'rejected'));
    assert.ok(g.gateway.upstream.tokens.loginCount('main', 'locky') < 10, `login attempts: ${g.gateway.upstream.tokens.loginCount('main', 'locky')}`);
    const shown = JSON.parse(await cephCli(testEnv.cephConf as string, ['dashboard', 'ac-user-show', lockUser, '--format', 'json'])) as { enabled: boolean };
    assert.equal(shown.enabled, true, 'the service account is still enabled in Ceph');
  });
});
