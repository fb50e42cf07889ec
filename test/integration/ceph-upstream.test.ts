// The Ceph Upstream against a real throwaway Ceph with two mgrs: version negotiation, token exchange,
// re-login after a revoked token, the lock-out breaker, and mgr fail-over under a GET loop (figures printed).
// A release suite: test/run.ts runs it against Pacific and against Reef (its own cluster of that release).
// Run: node --import tsx --test test/integration/ceph-upstream.test.ts

import assert from 'node:assert/strict';
import { after, before, describe, type TestContext, test } from 'node:test';
import { request } from 'undici';
import { type CephCluster, cephInstalled, startCluster } from '../../scripts/ceph/cluster.ts';
import { loadCatalogue, type RouteCatalogue } from '../../src/ceph/catalogue.ts';
import { detectRelease } from '../../src/ceph/release.ts';
import { type CephUpstream, createCephUpstream } from '../../src/ceph/upstream.ts';
import { cephConfigSchema } from '../../src/config/ceph.ts';
import { GatewayError } from '../../src/core/errors.ts';
import type { HttpMethod } from '../../src/core/http.ts';
import { forward } from '../../src/proxy/forward.ts';
import { releaseSuite } from '../support/requirements.ts';

const release = releaseSuite();
const installed = cephInstalled(release);
const skipReason = installed.ok ? null : `needs ceph ${release}: ${installed.reason}`;
if (skipReason !== null && process.env.CI === 'true') throw new Error(`required under CI=true: ${skipReason}`);
if (skipReason !== null) console.log(`# skipping ceph-upstream: ${skipReason}`);

const log = { debug() {}, info() {}, warn() {}, error() {} };
const SVC_PW = 'Svc-pass-123!';
let cluster: CephCluster;
let catalogue: RouteCatalogue;
const upstreams: CephUpstream[] = [];

function makeUpstream(accounts: { name: string; username: string; password: string }[], defaultAccount: string, failoverWaitMs = 5000): CephUpstream {
  const config = cephConfigSchema.parse({
    clusters: [
      {
        name: 'main',
        dashboards: cluster.dashboardUrls,
        release: catalogue.release,
        accounts,
        default_account: defaultAccount,
        failover: { health_interval_ms: 1000, wait_ms: failoverWaitMs, probe_timeout_ms: 1000 },
        timeouts: { connect_ms: 2000, headers_ms: 20000, body_ms: 20000 },
      },
    ],
  });
  const up = createCephUpstream(config, { forward, log });
  upstreams.push(up);
  return up;
}

async function call(up: CephUpstream, method: HttpMethod, pathAndQuery: string, o: { accept?: string | null; body?: unknown; signal?: AbortSignal } = {}) {
  const path = pathAndQuery.split('?')[0] as string;
  const m = catalogue.match(method, path.split('/').slice(1));
  assert.ok(m, `${method} ${path} in the catalogue`);
  const res = await up.send({
    requestId: 'it',
    cluster: 'main',
    cephAccount: null,
    method,
    pathAndQuery,
    headers: o.body === undefined ? {} : { 'content-type': 'application/json' },
    body: o.body === undefined ? null : Buffer.from(JSON.stringify(o.body)),
    operation: m.operation,
    clientAccept: o.accept === undefined ? 'application/json' : o.accept,
    ...(o.signal ? { signal: o.signal } : {}),
  });
  let text = '';
  for await (const chunk of res.body) text += String(chunk);
  return { status: res.status, headers: res.headers, text };
}

/** Loops GETs through `up`, runs `disrupt` after 2 s, and returns figures once service is back (or after 90 s). */
async function loopThrough(up: CephUpstream, disrupt: () => Promise<void>) {
  const results: { start: number; ms: number; outcome: string }[] = [];
  const t0 = Date.now();
  let stop = false;
  const loop = (async () => {
    while (!stop) {
      const start = Date.now();
      let outcome: string;
      try {
        outcome = String((await call(up, 'GET', '/api/summary', { signal: AbortSignal.timeout(30_000) })).status);
      } catch (e) {
        outcome = e instanceof GatewayError ? `${e.status} ${e.code}` : `error ${(e as Error).name}`;
      }
      results.push({ start: start - t0, ms: Date.now() - start, outcome });
      if (outcome !== '200') await new Promise((r) => setTimeout(r, 100));
    }
  })();
  await new Promise((r) => setTimeout(r, 2000));
  const failedAt = Date.now() - t0;
  await disrupt();
  const deadline = Date.now() + 90_000;
  for (;;) {
    await new Promise((r) => setTimeout(r, 250));
    const after = results.filter((r) => r.start > failedAt);
    const lastBad = [...after].reverse().find((r) => r.outcome !== '200');
    const lastStart = after.at(-1)?.start ?? 0;
    if ((lastBad === undefined && after.length > 20) || (lastBad !== undefined && lastStart - lastBad.start > 5000) || Date.now() > deadline) break;
  }
  stop = true;
  await loop;
  const after = results.filter((r) => r.start >= failedAt);
  const bad = after.filter((r) => r.outcome !== '200');
  const firstOkAfterBad = bad.length === 0 ? null : after.find((r) => r.outcome === '200' && r.start > (bad.at(-1)?.start ?? 0));
  return {
    requests: results.length,
    afterFail: after.length,
    failed: bad.length,
    failedOutcomes: [...new Set(bad.map((r) => r.outcome))].join(', '),
    maxLatencyMs: Math.max(...results.map((r) => r.ms)),
    unavailableMs: firstOkAfterBad ? firstOkAfterBad.start + firstOkAfterBad.ms - failedAt : 0,
    lastOutcome: after.at(-1)?.outcome ?? null,
  };
}

describe('ceph upstream against a real cluster', { skip: skipReason ?? false, timeout: 600_000 }, () => {
  before(async () => {
    cluster = await startCluster({ release, name: 'upstream-it', mgrs: 2 });
    await cluster.createDashboardUser('gwsvc', SVC_PW, ['administrator']);
    await cluster.createDashboardUser('gwlock', 'Right-pass-123!', ['read-only']);
    catalogue = loadCatalogue(await detectRelease(await cluster.activeDashboardUrl()));
  });
  after(async () => {
    await Promise.all(upstreams.map((u) => u.close()));
    await cluster?.stop();
  });

  test('2.0 endpoint with Accept: application/json: 200 through the upstream, 415 direct', async (t: TestContext) => {
    const up = makeUpstream([{ name: 'svc', username: 'gwsvc', password: SVC_PW }], 'svc');
    const created = await call(up, 'POST', '/api/pool', { body: { pool: 'gwtest', pg_num: 8, pool_type: 'replicated', application_metadata: ['rbd'] } });
    assert.ok([201, 202].includes(created.status), `${created.status} ${created.text}`);
    const res = await call(up, 'GET', '/api/block/image?pool_name=gwtest');
    assert.equal(res.status, 200, res.text);
    assert.equal(res.headers['content-type'], 'application/json');
    const direct = await request(`${await cluster.activeDashboardUrl()}/api/block/image?pool_name=gwtest`, { headers: { accept: 'application/json' } });
    await direct.body.dump();
    assert.ok([401, 415].includes(direct.statusCode));
    t.diagnostic(`release detected: ${catalogue.release}`);
    assert.equal(catalogue.release, release, "the gateway detects the cluster's release");
  });

  test('GET /api/host: plain JSON client gets application/json; a v1.0 media type passes through', async () => {
    const up = makeUpstream([{ name: 'svc', username: 'gwsvc', password: SVC_PW }], 'svc');
    const plain = await call(up, 'GET', '/api/host');
    assert.equal(plain.status, 200, plain.text);
    assert.equal(plain.headers['content-type'], 'application/json');
    assert.equal(plain.headers['set-cookie'], undefined);
    const v1 = await call(up, 'GET', '/api/host', { accept: 'application/vnd.ceph.api.v1.0+json' });
    assert.equal(v1.status, 200);
    assert.match(String(v1.headers['content-type']), /^application\/vnd\.ceph\.api\.v1\.\d\+json/);
  });

  test('20 concurrent first requests: one login; a revoked token: one re-login, no failed request', async () => {
    const up = makeUpstream([{ name: 'svc', username: 'gwsvc', password: SVC_PW }], 'svc');
    const all = await Promise.all(Array.from({ length: 20 }, () => call(up, 'GET', '/api/summary')));
    assert.deepEqual(new Set(all.map((r) => r.status)), new Set([200]));
    assert.equal(up.tokens.loginCount('main', 'svc'), 1);
    // docs/ceph-facts.md: a user modified after the token's iat loses the token (401).
    await new Promise((r) => setTimeout(r, 1100));
    await cluster.ceph(['dashboard', 'ac-user-set-roles', 'gwsvc', 'administrator']);
    const res = await call(up, 'GET', '/api/summary');
    assert.equal(res.status, 200, res.text);
    assert.equal(up.tokens.loginCount('main', 'svc'), 2);
  });

  test('wrong service password: 503 ceph_login_failed, far fewer than 10 attempts, account not locked', async (t: TestContext) => {
    const up = makeUpstream([{ name: 'bad', username: 'gwlock', password: 'wrong' }], 'bad');
    const codes = new Map<string, number>();
    for (let i = 0; i < 30; i++) {
      try {
        await call(up, 'GET', '/api/summary');
        codes.set('ok', (codes.get('ok') ?? 0) + 1);
      } catch (e) {
        const k = e instanceof GatewayError ? `${e.status} ${e.code}` : String(e);
        codes.set(k, (codes.get(k) ?? 0) + 1);
        if (e instanceof GatewayError) assert.ok(Number(e.headers['Retry-After']) >= 1);
      }
    }
    assert.deepEqual([...codes.keys()], ['503 ceph_login_failed']);
    const attempts = up.tokens.loginCount('main', 'bad');
    assert.ok(attempts < 10, `${attempts} login attempts`);
    const ok = await request(`${await cluster.activeDashboardUrl()}/api/auth`, {
      method: 'POST',
      headers: { accept: 'application/vnd.ceph.api.v1.0+json', 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'gwlock', password: 'Right-pass-123!' }),
    });
    await ok.body.dump();
    assert.equal(ok.statusCode, 201, 'the account is still usable');
    t.diagnostic(`30 requests with a wrong password -> ${attempts} login attempts`);
  });

  test('mgr fail-over (ceph mgr fail) while looping GETs: no request hangs, service resumes', async (t: TestContext) => {
    const up = makeUpstream([{ name: 'svc', username: 'gwsvc', password: SVC_PW }], 'svc', 5000);
    assert.equal((await call(up, 'GET', '/api/summary')).status, 200);
    const figures = await loopThrough(up, () => cluster.failActiveMgr());
    t.diagnostic(`mgr fail figures: ${JSON.stringify(figures)}`);
    assert.ok(figures.maxLatencyMs < 30_000, 'no request hangs');
    assert.equal(figures.lastOutcome, '200', 'service resumes');
  });

  test('active mgr SIGKILLed while looping GETs: no request hangs, service resumes', async (t: TestContext) => {
    const up = makeUpstream([{ name: 'svc', username: 'gwsvc', password: SVC_PW }], 'svc', 5000);
    assert.equal((await call(up, 'GET', '/api/summary')).status, 200);
    const stat = JSON.parse(await cluster.ceph(['mgr', 'stat', '--format', 'json'])) as { active_name: string };
    const figures = await loopThrough(up, () => cluster.killMgr(stat.active_name));
    t.diagnostic(`mgr kill figures: ${JSON.stringify(figures)}`);
    assert.ok(figures.maxLatencyMs < 30_000, 'no request hangs');
    assert.equal(figures.lastOutcome, '200', 'service resumes');
  });
});
