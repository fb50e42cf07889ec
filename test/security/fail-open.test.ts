// docs/security.md class 7 (fail-open paths), by fault injection into the real pipeline (doubles via
// testDeps): a throwing policy engine, an audit store that times out, a JWKS endpoint that hangs (real
// bearer authenticator) and Ceph resetting the connection each end in a clear JSON error, and nothing
// is forwarded unaudited or unauthorised (the recording upstream proves it).

import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { generateKeyPair, SignJWT } from 'jose';
import { createBearerAuthenticator } from '../../src/auth/bearer.ts';
import { createAuthenticatorChain } from '../../src/auth/chain.ts';
import { identityConfigSchema } from '../../src/config/identity.ts';
import type { AuditIntent, AuditSink } from '../../src/core/audit.ts';
import type { PolicyEngine } from '../../src/core/decision.ts';
import { MemoryAudit, staticUpstream, testConfig, testDeps } from '../support/doubles.ts';
import { type RunningGateway, startGateway } from '../support/gateway.ts';
import { jsonAnswer, type StubUpstream, startStubUpstream } from '../support/stub-upstream.ts';
import { call } from './support.ts';

let stub: StubUpstream;
before(async () => {
  stub = await startStubUpstream((req, res, body) => {
    if (req.url?.startsWith('/api/reset')) return req.socket.destroy();
    if (req.url?.startsWith('/api/half')) {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
      res.write('{"partial":');
      setTimeout(() => req.socket.destroy(), 20);
      return;
    }
    jsonAnswer(200, { ok: true })(req, res, body);
  });
});
after(async () => {
  await stub.close();
});

async function withGateway(over: Parameters<typeof testDeps>[0], fn: (gw: RunningGateway) => Promise<void>): Promise<void> {
  const gw = await startGateway(testDeps(over));
  try {
    await fn(gw);
  } finally {
    await gw.close();
  }
}

const throwingEngine: PolicyEngine = {
  version: 'broken',
  decide: () => {
    throw new Error('policy engine exploded with secret internals');
  },
};

describe('policy engine failures deny', () => {
  for (const [name, policy] of [
    ['decide() throws', () => throwingEngine],
    [
      'the active policy set cannot be read',
      () => {
        throw new Error('no policy');
      },
    ],
    [
      'decide() answers an unknown effect',
      () => ({ version: 'odd', decide: () => ({ effect: 'ALLOW', ruleId: 'x', reason: '', cephAccount: null, policyVersion: 'odd' }) }),
    ],
    ['decide() answers undefined', () => ({ version: 'odd', decide: () => undefined })],
  ] as [string, () => PolicyEngine][]) {
    test(`a policy engine failure (${name}) is 403 policy_error, audited, never forwarded`, async () => {
      const audit = new MemoryAudit();
      await withGateway({ upstream: staticUpstream(stub.url), audit, policy }, async (gw) => {
        const before = stub.received.length;
        const res = await call(gw.url, 'POST', '/api/pool', { body: '{"pool":"x"}' });
        assert.equal(res.status, 403);
        assert.equal(res.json?.code, 'policy_error');
        assert.equal(res.text.includes('secret internals'), false);
        assert.equal(stub.received.length, before);
        assert.equal(audit.intents.at(-1)?.finalStatus, 403);
      });
    });
  }
});

describe('audit store failures refuse', () => {
  class SlowAudit extends MemoryAudit {
    override async recordIntent(i: AuditIntent): Promise<void> {
      // What the real store does when its intent timeout (audit.intent_timeout_ms) passes.
      await new Promise((r) => setTimeout(r, 200));
      if (i.finalStatus === undefined) throw new Error('audit intent timed out');
      this.intents.push(i);
    }
  }

  test('an audit intent that times out is 503 audit_unavailable and nothing is forwarded', async () => {
    await withGateway({ upstream: staticUpstream(stub.url), audit: new SlowAudit() }, async (gw) => {
      const before = stub.received.length;
      const res = await call(gw.url, 'DELETE', '/api/pool/p1');
      assert.equal(res.status, 503);
      assert.equal(res.json?.code, 'audit_unavailable');
      assert.ok(res.headers['retry-after']);
      assert.equal(stub.received.length, before);
    });
  });

  test('an audit store that is down refuses every mutation', async () => {
    const audit = new MemoryAudit();
    audit.failing = true;
    await withGateway({ upstream: staticUpstream(stub.url), audit }, async (gw) => {
      const before = stub.received.length;
      for (const m of ['POST', 'PUT', 'PATCH', 'DELETE']) {
        const res = await call(gw.url, m, '/api/pool/p1', { body: '{}' });
        assert.equal(res.status, 503, m);
        assert.equal(res.json?.code, 'audit_unavailable');
      }
      assert.equal(stub.received.length, before);
    });
  });

  test('reads are not blocked by a failing audit store unless reads are audited', async () => {
    const audit = new MemoryAudit();
    audit.failing = true;
    await withGateway({ upstream: staticUpstream(stub.url), audit, config: testConfig({ audit: { record_reads: true } }) }, async (gw) => {
      const res = await call(gw.url, 'GET', '/api/pool');
      assert.equal(res.status, 503);
      assert.equal(res.json?.code, 'audit_unavailable');
    });
  });
});

describe('identity provider failures refuse', () => {
  let jwks: Server;
  let hung = 0;
  let issuer = '';
  before(async () => {
    jwks = createServer(() => {
      hung++; // never answers: a JWKS endpoint that hangs
    });
    await new Promise<void>((r) => jwks.listen(0, '127.0.0.1', r));
    issuer = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}`;
  });
  after(async () => {
    jwks.closeAllConnections();
    await new Promise<void>((r) => jwks.close(() => r()));
  });

  test('a hanging JWKS endpoint ends in 401 invalid_token within the HTTP timeout, nothing forwarded', async () => {
    const identity = identityConfigSchema.parse({
      issuers: [{ name: 'hang', issuer, audiences: ['cephgate'], jwks_uri: `${issuer}/jwks`, http_timeout_ms: 300 }],
    });
    const bearer = createBearerAuthenticator(identity);
    const { privateKey } = await generateKeyPair('RS256');
    const now = Math.floor(Date.now() / 1000);
    const token = await new SignJWT({ sub: 'alice', groups: ['breakglass'] })
      .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
      .setIssuer(issuer)
      .setAudience('cephgate')
      .setIssuedAt(now)
      .setExpirationTime(now + 300)
      .sign(privateKey);
    const audit = new MemoryAudit();
    await withGateway({ upstream: staticUpstream(stub.url), audit, authenticate: createAuthenticatorChain([bearer]) }, async (gw) => {
      const before = stub.received.length;
      const started = Date.now();
      const res = await call(gw.url, 'DELETE', '/api/pool/p1', { token });
      assert.equal(res.status, 401);
      assert.equal(res.json?.code, 'invalid_token');
      assert.ok(Date.now() - started < 3000, 'bounded by http_timeout_ms');
      assert.ok(hung >= 1, 'the JWKS endpoint was asked');
      assert.equal(stub.received.length, before);
      assert.equal(audit.intents.at(-1)?.finalStatus, 401);
    });
  });
});

describe('Ceph failures mid-request', () => {
  test('Ceph resetting the connection is 502 upstream_unreachable, and the outcome is audited', async () => {
    const audit = new MemoryAudit();
    await withGateway({ upstream: staticUpstream(stub.url), audit }, async (gw) => {
      const res = await call(gw.url, 'POST', '/api/reset', { body: '{}' });
      assert.equal(res.status, 502);
      assert.equal(res.json?.code, 'upstream_unreachable');
      const id = audit.intents.at(-1)?.id as string;
      assert.equal(audit.outcomes.get(id)?.errorCode, 'upstream_unreachable');
    });
  });

  test('Ceph breaking off mid-answer never becomes a complete-looking success', async () => {
    const audit = new MemoryAudit();
    await withGateway({ upstream: staticUpstream(stub.url), audit }, async (gw) => {
      let status = 0;
      let complete = false;
      try {
        const res = await call(gw.url, 'POST', '/api/half', { body: '{}' });
        status = res.status;
        complete = res.json !== null;
      } catch {
        status = -1; // the connection was cut: the client knows the answer is incomplete
      }
      assert.ok(status === -1 || status >= 500 || !complete, `got ${status}`);
      const id = audit.intents.at(-1)?.id as string;
      assert.ok(audit.intents.length === 1 && id);
    });
  });

  test('an unexpected error in the upstream stage is a generic 500 internal_error without internals', async () => {
    const audit = new MemoryAudit();
    const upstream = {
      send: async () => {
        throw new Error('ECONNWEIRD at /var/lib/ceph secret');
      },
      ping: async () => true,
      close: async () => {},
    };
    await withGateway({ upstream, audit }, async (gw) => {
      const res = await call(gw.url, 'POST', '/api/pool', { body: '{}' });
      assert.ok(res.status >= 500);
      assert.ok(['internal_error', 'upstream_error'].includes(String(res.json?.code)));
      assert.equal(res.text.includes('/var/lib/ceph'), false);
      assert.equal(res.text.includes('secret'), false);
    });
  });
});

describe('the audit sink contract', () => {
  test('a sink that never answers cannot hold a mutation: 503 within the intent bound, nothing forwarded', async () => {
    const hanging: AuditSink = {
      recordIntent: () => new Promise(() => {}),
      recordRefusal: () => new Promise(() => {}),
      recordOutcome: async () => {},
      ping: async () => true,
      close: async () => {},
    };
    await withGateway({ upstream: staticUpstream(stub.url), audit: hanging, config: testConfig({ audit: { intent_timeout_ms: 100 } }) }, async (gw) => {
      const ac = AbortSignal.timeout(2000);
      const res = await fetch(`${gw.url}/api/pool/p1`, { method: 'DELETE', signal: ac });
      assert.equal(res.status, 503);
    });
  });
});
