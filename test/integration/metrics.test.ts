// Operations surface of a complete gateway (real IdP, real Ceph, example policies): /metrics on the
// admin listener moves with traffic, the public listener answers none of the admin paths, /readyz is
// 200 when ready; and the compose deployment's config loads through the real loader and schema.

import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { loadConfig } from '../../src/config/load.ts';
import { type FullGateway, startFullGateway } from '../support/full-gateway.ts';
import { need, testEnv } from '../support/requirements.ts';

/** Sum of the samples of `name` whose labels include every given label (Prometheus text format). */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) sum += Number(m[3]);
  }
  return sum;
}

describe('metrics, health and readiness on the admin listener only', () => {
  let gw: FullGateway | null = null;
  // A copy of the example policies, so one test can break and mend them.
  const policiesDir = mkdtempSync(join(tmpdir(), 'cephgate-metrics-policies-'));
  before(async () => {
    cpSync('policies', policiesDir, { recursive: true });
    if (testEnv.cephUrl) gw = await startFullGateway({ policiesDir });
  });
  after(async () => {
    await gw?.close();
    rmSync(policiesDir, { recursive: true, force: true });
  });
  const g = () => gw as FullGateway;
  const scrape = async () => {
    const res = await fetch(`${g().adminUrl}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
    return res.text();
  };
  const call = async (method: string, path: string, token?: string, body?: unknown) => {
    const res = await fetch(`${g().url}${path}`, {
      method,
      headers: {
        accept: 'application/json',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, type: res.headers.get('content-type') ?? '', body: (await res.json().catch(() => null)) as Record<string, unknown> | null };
  };

  test('the counters and histograms move with requests', async (t) => {
    if (!need(t, 'ceph')) return;
    const alice = await g().token('alice');
    const carol = await g().token('carol');
    const before = await scrape();
    assert.equal((await call('GET', '/api/health/minimal', alice)).status, 200);
    assert.equal((await call('GET', '/api/health/minimal', alice)).status, 200);
    assert.equal((await call('POST', '/api/pool', alice, { pool: 'team-b-metrics', pg_num: 8, pool_type: 'replicated' })).status, 403);
    assert.equal((await call('GET', '/api/pool')).status, 401);
    // An allowed mutation is audited before and after it reaches Ceph (intent + outcome); harmless: noout stays off.
    assert.equal((await call('PUT', '/api/osd/flags/individual', carol, { ids: [0], flags: { noout: false } })).status, 200);
    // The outcome is committed just after the answer (docs/audit.md): wait for its write to be timed.
    let after = await scrape();
    const delta = (name: string, labels: Record<string, string> = {}) => sample(after, name, labels) - sample(before, name, labels);
    for (let i = 0; i < 50 && delta('cephgate_audit_write_duration_seconds_count', { kind: 'outcome' }) < 1; i++) {
      await new Promise((r) => setTimeout(r, 100));
      after = await scrape();
    }

    assert.equal(delta('cephgate_requests_total', { route: '/api/health/minimal', method: 'GET', decision: 'allow', status: '200' }), 2);
    assert.equal(delta('cephgate_requests_total', { route: '/api/pool', method: 'POST', decision: 'deny', status: '403' }), 1);
    assert.equal(delta('cephgate_requests_total', { method: 'GET', status: '401' }), 1);
    assert.equal(delta('cephgate_requests_total', { route: '/api/osd/flags/individual', method: 'PUT', decision: 'allow', status: '200' }), 1);
    assert.ok(delta('cephgate_request_duration_seconds_count') >= 5);
    assert.ok(delta('cephgate_upstream_duration_seconds_count', { cluster: 'main' }) >= 3, 'upstream latency observed');
    assert.ok(delta('cephgate_policy_evaluation_seconds_count') >= 4, 'policy latency observed');
    assert.equal(delta('cephgate_audit_write_duration_seconds_count', { kind: 'intent' }), 1, 'audit intent write timed');
    assert.equal(delta('cephgate_audit_write_duration_seconds_count', { kind: 'outcome' }), 1, 'audit outcome write timed');
    assert.equal(delta('cephgate_audit_store_failures_total'), 0);
    // Declared with HELP/TYPE even before their first observation, so dashboards and alerts can rely on them.
    for (const name of [
      'cephgate_audit_store_failures_total',
      'cephgate_ceph_logins_total',
      'cephgate_ceph_token_cache_hits_total',
      'cephgate_jwks_refreshes_total',
      'cephgate_active_sessions',
    ]) {
      assert.match(after, new RegExp(`^# TYPE ${name} `, 'm'), name);
    }
    assert.match(after, /^cephgate_process_cpu_seconds_total /m, 'default process metrics, prefixed');

    // What operators ask of a gateway (issue 18): what runs, refusals by reason, the audit queue and its
    // commits, each cluster's active mgr.
    const version = (JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version;
    assert.equal(sample(after, 'cephgate_build_info', { version, node_version: process.version }), 1);
    assert.equal(delta('cephgate_refusals_total', { status: '403', code: 'policy_denied' }), 1);
    assert.equal(delta('cephgate_refusals_total', { status: '401' }), 1);
    assert.ok(delta('cephgate_audit_commit_duration_seconds_count', { result: 'ok' }) >= 1, 'group commits timed');
    assert.ok(delta('cephgate_audit_commit_batch_size_count') >= 1);
    assert.match(after, /^cephgate_audit_queue_depth \d+$/m);
    // One of the configured dashboards is the active mgr (which one depends on earlier fail-overs of the shared cluster).
    const origins = (g().config.ceph.clusters[0]?.dashboards ?? []).map((u) => new URL(u).origin);
    const active = after.split('\n').filter((l) => l.startsWith('cephgate_ceph_active_mgr{') && l.endsWith(' 1'));
    assert.equal(active.length, 1, active.join('\n'));
    assert.ok(
      origins.some((o) => (active[0] as string).includes(`cluster="main",url="${o}"`)),
      `${active[0]} names one of ${origins.join(', ')}`,
    );
    assert.equal(sample(after, 'cephgate_policy_set_info', { version: g().gateway.policies.current.version }), 1);
    assert.equal(sample(after, 'cephgate_policy_last_reload_success'), 1);
  });

  test('a rejected policy reload shows in the metrics until a good one is applied', async (t) => {
    if (!need(t, 'ceph')) return;
    const good = g().gateway.policies.current.version;
    const broken = join(policiesDir, 'zz-broken.yaml');
    writeFileSync(broken, 'rules:\n  - id: broken\n    effect: maybe\n');
    try {
      assert.equal(g().gateway.policies.reload(), false);
      const text = await scrape();
      assert.equal(sample(text, 'cephgate_policy_last_reload_success'), 0);
      assert.ok(sample(text, 'cephgate_policy_reloads_total', { result: 'rejected' }) >= 1);
      assert.equal(sample(text, 'cephgate_policy_set_info', { version: good }), 1, 'the last good set stays active');
    } finally {
      rmSync(broken);
    }
    assert.equal(g().gateway.policies.reload(), true);
    assert.equal(sample(await scrape(), 'cephgate_policy_last_reload_success'), 1);
  });

  test('the public listener answers none of the admin paths, with or without a token', async (t) => {
    if (!need(t, 'ceph')) return;
    const carol = await g().token('carol');
    for (const path of ['/metrics', '/healthz', '/readyz']) {
      for (const token of [undefined, carol]) {
        const res = await call('GET', path, token);
        assert.equal(res.status, 404, `${path} ${token ? 'with' : 'without'} a token`);
        assert.match(res.type, /^application\/json/);
        assert.equal(res.body?.code, 'not_found');
      }
    }
  });

  test('/healthz is 200 and /readyz is 200 when the audit store and Ceph are reachable', async (t) => {
    if (!need(t, 'ceph')) return;
    const health = await fetch(`${g().adminUrl}/healthz`);
    assert.equal(health.status, 200);
    const ready = await fetch(`${g().adminUrl}/readyz`);
    const body = (await ready.json()) as { status: string; audit: string; ceph: Record<string, string> };
    assert.equal(ready.status, 200, JSON.stringify(body));
    assert.equal(body.status, 'ready');
    assert.equal(body.audit, 'ok');
    assert.deepEqual(body.ceph, { main: 'ok' });
    const unknown = await fetch(`${g().adminUrl}/nope`);
    assert.equal(unknown.status, 404);
  });
});

describe('deployment configs', () => {
  // The values docker-compose.yml passes to the gateway container (see .env.example).
  const composeEnv = {
    CEPHGATE__SERVER__PUBLIC_URL: 'http://localhost:8080',
    CEPHGATE__LOGGING__LEVEL: 'debug',
    DATABASE_URL: 'postgres://cephgate:pw@postgres:5432/cephgate',
    CEPH_PW_READER: 'x',
    CEPH_PW_OPERATOR: 'x',
    CEPH_PW_ADMIN: 'x',
    OIDC_CLIENT_SECRET: 'x',
    SESSION_ENCRYPTION_KEY: 'x',
  };

  test('loads through the loader and the schema with the compose environment', () => {
    const { config } = loadConfig({ path: 'deploy/cephgate.compose.yaml', env: composeEnv });
    assert.equal(config.server.listen.host, '0.0.0.0');
    assert.equal(config.server.public_url, 'http://localhost:8080');
    assert.equal(config.logging.level, 'debug');
    // DATABASE_URL becomes the audit database: Postgres, not PGlite.
    assert.equal(config.audit.database_url_env, 'DATABASE_URL');
    assert.equal(config.admin.listen.host, '0.0.0.0', 'the admin port is published to the compose network only');
    const cluster = config.ceph.clusters[0];
    assert.ok(cluster);
    assert.deepEqual(cluster.accounts.map((a) => a.name).sort(), ['admin', 'operator', 'reader']);
    assert.ok(
      cluster.accounts.every((a) => a.password_env !== undefined && a.password === undefined),
      'no inline secret',
    );
    assert.equal(cluster.tls.insecure_skip_verify, false);
    assert.equal(config.identity.issuers[0]?.audiences[0], 'cephgate');
    assert.equal(config.identity.browser_login?.enabled, true);
  });

  test('every example under examples/ passes the schema', () => {
    for (const f of readdirSync('examples').filter((n) => n.endsWith('.yaml'))) {
      assert.doesNotThrow(() => loadConfig({ path: join('examples', f), env: {} }), f);
    }
  });

  test('reads policies from the mounted directory: the image ships none', () => {
    const { config } = loadConfig({ path: 'deploy/cephgate.compose.yaml', env: composeEnv });
    assert.equal(config.policy.dir, '/etc/cephgate/policies');
    assert.match(readFileSync('docker-compose.yml', 'utf8'), /- \.\/policies:\/etc\/cephgate\/policies:ro/);
    assert.doesNotMatch(readFileSync('Dockerfile', 'utf8'), /COPY[^\n]*policies/);
  });
});
