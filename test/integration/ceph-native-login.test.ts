// Ceph-native login against the real Ceph, wired by buildGateway from configuration: an unmodified
// Ceph-API-style client script pointed at the gateway, Ceph's own RBAC still applying (the user's own
// token is forwarded), brute force never locking an account. A recording proxy between the gateway
// and Ceph shows exactly what reached Ceph.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { request } from 'undici';
import { queryAudit } from '../../src/audit/query.ts';
import { cephCli } from '../support/ceph-cli.ts';
import { type FullGateway, startFullGateway } from '../support/full-gateway.ts';
import { type RecordingProxy, startRecordingProxy } from '../support/recording-proxy.ts';
import { need, testEnv } from '../support/requirements.ts';

const V1 = 'application/vnd.ceph.api.v1.0+json';
const suffix = Math.random().toString(36).slice(2, 8);
const RO = { username: `nl-ro-${suffix}`, password: 'Native-ro-1!' };
const BF = { username: `nl-bf-${suffix}`, password: 'Native-bf-1!' };

let gw: FullGateway | null = null;
let proxy: RecordingProxy | null = null;
let url = '';
let close: (() => Promise<void>) | null = null;
const logins = () => (proxy as RecordingProxy).received.filter((r) => r.method === 'POST' && r.url === '/api/auth');
const loginBodies = {
  get length() {
    return logins().length;
  },
  every: (f: (b: string) => boolean) => logins().every((r) => f(r.body.toString('utf8'))),
};
const userTokensSent = {
  at: (_i: number) =>
    (proxy as RecordingProxy).received
      .filter((r) => r.url.startsWith('/api/pool') && r.method === 'GET')
      .at(-1)
      ?.authorization?.replace(/^Bearer /, ''),
};

const POLICY = `
rules:
  - id: native-never-delete-pools
    effect: deny
    subjects: { auth_methods: [ceph_native] }
    routes: [Pool.delete]
  - id: native-all
    effect: allow
    subjects: { groups: [ceph-native] }
    routes: ["*"]
    # Deliberately the administrator service account: a native request must still get Ceph's answer for the user.
    ceph_account: admin
`;

async function compose(): Promise<void> {
  const policies = mkdtempSync(join(tmpdir(), 'cg-native-pol-'));
  writeFileSync(join(policies, 'native.yaml'), POLICY);
  proxy = await startRecordingProxy(testEnv.cephUrl as string);
  const via = proxy.url;
  gw = await startFullGateway({
    policiesDir: policies,
    config: (base) => {
      const ceph = base.ceph as { clusters: Record<string, unknown>[] };
      ceph.clusters[0] = { ...ceph.clusters[0], dashboards: [via], native_login: { enabled: true } };
      return { ...base, audit: { ...(base.audit as object), record_reads: true } };
    },
  });
  url = gw.url;
  close = async () => {
    await gw?.close();
    await proxy?.close();
    rmSync(policies, { recursive: true, force: true });
  };
}

/** What a Ceph API client does, verbatim: JSON in, the v1.0 media type, `Authorization: Bearer <token>`. */
async function ceph(method: string, path: string, opts: { token?: string; body?: unknown; base?: string } = {}) {
  const body = opts.body === undefined ? undefined : JSON.stringify(opts.body);
  const res = await request(`${opts.base ?? url}${path}`, {
    method: method as 'GET',
    headers: {
      accept: V1,
      ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
      ...(body === undefined ? { 'content-length': '0' } : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body }),
  });
  const text = await res.body.text();
  let parsed: unknown = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = text;
  }
  return { status: res.statusCode, headers: res.headers, body: parsed as Record<string, unknown> & unknown[] };
}

const conf = () => testEnv.cephConf as string;
const enabled = async (user: string) =>
  (JSON.parse(await cephCli(conf(), ['dashboard', 'ac-user-show', user, '--format', 'json'])) as { enabled: boolean }).enabled;

describe('Ceph-native login through the gateway (real Ceph)', () => {
  before(async () => {
    if (!testEnv.cephUrl || !testEnv.cephConf) return;
    await cephCli(conf(), ['dashboard', 'ac-user-create', RO.username, '-i', '-', 'read-only', '--force-password'], RO.password);
    await cephCli(conf(), ['dashboard', 'ac-user-create', BF.username, '-i', '-', 'read-only', '--force-password'], BF.password);
    await compose();
  });
  after(async () => {
    await close?.();
  });

  test('an unmodified Ceph API client script: login, list pools, check, logout', async (t) => {
    if (!need(t, 'ceph')) return;
    // 1. POST /api/auth exactly as against Ceph (with Tentacle's `ttl`, which Pacific would answer 500 to).
    const login = await ceph('POST', '/api/auth', { body: { ...RO, ttl: 1 } });
    assert.equal(login.status, 201, JSON.stringify(login.body));
    assert.equal(login.headers['content-type'], V1);
    assert.deepEqual(Object.keys(login.body).sort(), ['permissions', 'pwdExpirationDate', 'pwdUpdateRequired', 'sso', 'token', 'username']);
    assert.equal(login.body.username, RO.username);
    assert.deepEqual((login.body.permissions as unknown as Record<string, string[]>).pool, ['read']);
    const token = login.body.token as unknown as string;
    assert.match(token, /^cgn_/, "a gateway-issued token, never Ceph's JWT");
    assert.equal(login.headers['set-cookie'], undefined);
    assert.ok(
      loginBodies.every((b) => !('ttl' in JSON.parse(b))),
      'ttl never reaches Ceph',
    );

    // 2. GET /api/pool with the token: 200, forwarded with the user's own Ceph token.
    const pools = await ceph('GET', '/api/pool', { token });
    assert.equal(pools.status, 200, JSON.stringify(pools.body));
    assert.ok(Array.isArray(pools.body));
    const userToken = userTokensSent.at(-1) as string;
    assert.ok(userToken.split('.').length === 3 && !userToken.startsWith('cgn_'));

    // 3. /api/auth/check answers like Ceph's, from Ceph.
    const check = await ceph('POST', '/api/auth/check', { body: { token } });
    assert.equal(check.status, 200);
    assert.equal(check.body.username, RO.username);
    const clusterCheck = await ceph('POST', '/clusters/main/api/auth/check', { body: { token } });
    assert.equal(clusterCheck.body.username, RO.username);

    // 4. Logout: 200 like Ceph; the gateway token is refused, and the Ceph token was logged out upstream.
    const out = await ceph('POST', '/api/auth/logout', { token });
    assert.equal(out.status, 200);
    assert.deepEqual(out.body, { redirect_url: '#/login' });
    const after = await ceph('GET', '/api/pool', { token });
    assert.equal(after.status, 401);
    assert.equal(after.body.code, 'invalid_token');
    const direct = await ceph('GET', '/api/pool', { token: userToken, base: testEnv.cephUrl as string });
    assert.equal(direct.status, 401, 'Ceph block-listed the user token at logout');
    const checkAfter = await ceph('POST', '/api/auth/check', { body: { token } });
    assert.equal(checkAfter.status, 200);
    assert.ok('login_url' in checkAfter.body, JSON.stringify(checkAfter.body));
  });

  test("Ceph's own RBAC still applies: a read-only user cannot create a pool although policy allows it", async (t) => {
    if (!need(t, 'ceph')) return;
    const login = await ceph('POST', '/clusters/main/api/auth', { body: RO });
    assert.equal(login.status, 201);
    const token = login.body.token as unknown as string;
    const pool = `nl-denied-${suffix}`;
    const created = await ceph('POST', '/api/pool', { token, body: { pool, pg_num: 8, pool_type: 'replicated' } });
    assert.equal(created.status, 403, 'Ceph refused the read-only user (the admin service account would have succeeded)');
    assert.notEqual(created.body.code, 'policy_denied', "the 403 is Ceph's, not the gateway's");
    assert.equal((await cephCli(conf(), ['osd', 'pool', 'ls'])).split('\n').includes(pool), false);
    // And the gateway policy applies on top: deleting pools is denied before Ceph sees it.
    const del = await ceph('DELETE', '/api/pool/anything', { token });
    assert.equal(del.status, 403);
    assert.equal(del.body.code, 'policy_denied');

    // Audit records name ceph:<cluster>/<user>, method ceph_native.
    const page = await queryAudit((gw as FullGateway).gateway.audit.db, { principal: `ceph:main/${RO.username}`, limit: 50 });
    const create = page.items.find((r) => r.method === 'POST' && r.route === '/api/pool');
    assert.ok(create, 'the pool create is audited');
    assert.equal(create.principal?.auth_method, 'ceph_native');
    assert.deepEqual(create.principal?.groups, ['ceph-native']);
    assert.equal(create.cluster, 'main');
    assert.ok(page.items.some((r) => r.route === '/api/pool/{pool_name}' && r.decision?.effect === 'deny'));
    const logins = await queryAudit((gw as FullGateway).gateway.audit.db, { operation: 'Auth.create', limit: 100 });
    assert.ok(logins.items.some((r) => (r.body as { username?: string } | null)?.username === RO.username && r.status === 201));
    assert.ok(
      logins.items.every((r) => !JSON.stringify(r.body).includes(RO.password)),
      'passwords never reach the audit log',
    );
    await ceph('POST', '/api/auth/logout', { token });
  });

  test("wrong password: 400 in Ceph's shape; a burst is cut at 5 and Ceph never locks the account", async (t) => {
    if (!need(t, 'ceph')) return;
    const wrong = await ceph('POST', '/api/auth', { body: { username: BF.username, password: 'nope' } });
    assert.equal(wrong.status, 400);
    assert.deepEqual(wrong.body, { detail: 'Invalid credentials', code: 'invalid_credentials', component: 'auth' });
    const before = loginBodies.length;
    // 15 concurrent guesses: only the 4 left in the window reach Ceph, the rest are 429 at once.
    const burst = await Promise.all(Array.from({ length: 15 }, () => ceph('POST', '/api/auth', { body: { username: BF.username, password: 'nope' } })));
    const statuses = burst.map((r) => r.status);
    assert.equal(statuses.filter((s) => s === 400).length, 4, statuses.join(','));
    assert.equal(statuses.filter((s) => s === 429).length, 11);
    const limited = burst.find((r) => r.status === 429);
    assert.equal(limited?.body.code, 'too_many_requests');
    assert.ok(Number(limited?.headers['retry-after']) > 0);
    // Even the right password waits now (else guessing would go on), and Ceph is not asked.
    const right = await ceph('POST', '/api/auth', { body: BF });
    assert.equal(right.status, 429);
    assert.equal(loginBodies.length - before, 4, 'Ceph saw exactly 4 more attempts');
    assert.equal(await enabled(BF.username), true, 'the Ceph account is still enabled');
    // The gateway's own service accounts cannot be logged in to from outside at all.
    const svc = await ceph('POST', '/api/auth', { body: { username: 'cg-admin', password: 'guess' } });
    assert.equal(svc.status, 400);
    assert.equal(loginBodies.length - before, 4, 'a service-account guess never reaches Ceph');
  });

  test('a gateway token works under its cluster prefix only, and a tampered token is refused', async (t) => {
    if (!need(t, 'ceph')) return;
    const login = await ceph('POST', '/api/auth', { body: RO });
    const token = login.body.token as unknown as string;
    assert.equal((await ceph('GET', '/clusters/main/api/pool', { token })).status, 200);
    const other = await ceph('GET', '/clusters/nope/api/pool', { token });
    assert.equal(other.status, 401);
    assert.equal(other.body.code, 'invalid_token');
    const forged = await ceph('GET', '/api/pool', { token: `${token.slice(0, -2)}AA` });
    assert.equal(forged.status, 401);
    await ceph('POST', '/api/auth/logout', { token });
  });
});
