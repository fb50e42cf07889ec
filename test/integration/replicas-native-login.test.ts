// Ceph-native login over two real gateway processes on one Postgres, in front of the real Ceph (through a
// recording proxy that shows what reached it): a token issued by replica A works on replica B, a logout on
// B ends it on A, and wrong passwords spread over both replicas are counted once: they never reach Ceph's
// lock-out (10), are refused with 429 on both, and the account stays enabled in Ceph.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { request } from 'undici';
import { cephCli, ensureTestAccounts, TEST_ACCOUNTS } from '../support/ceph-cli.ts';
import { type RecordingProxy, startRecordingProxy } from '../support/recording-proxy.ts';
import { need, testEnv } from '../support/requirements.ts';
import { type ThrowawayDatabase, throwawayDatabase } from '../support/throwaway-database.ts';
import { type Replicas, sessionKey, startReplicas } from './replicas-harness.ts';

const V1 = 'application/vnd.ceph.api.v1.0+json';
const suffix = Math.random().toString(36).slice(2, 8);
const USER = { username: `rep-ro-${suffix}`, password: 'Replica-ro-1!' };
const SPREAD = { username: `rep-bf-${suffix}`, password: 'Replica-bf-1!' };
const BURST = { username: `rep-burst-${suffix}`, password: 'Replica-burst-1!' };

const POLICY = `
rules:
  - id: native-all
    effect: allow
    subjects: { groups: [ceph-native] }
    routes: ["*"]
    ceph_account: reader
`;

let set: Replicas | null = null;
let proxy: RecordingProxy | null = null;
let db: ThrowawayDatabase | null = null;

async function call(base: string, method: string, path: string, opts: { token?: string; body?: unknown } = {}) {
  const body = opts.body === undefined ? undefined : JSON.stringify(opts.body);
  const res = await request(`${base}${path}`, {
    method: method as 'GET',
    headers: {
      accept: V1,
      ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
      ...(body === undefined ? { 'content-length': '0' } : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body }),
  });
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, body: (text ? JSON.parse(text) : null) as Record<string, unknown> };
}

const conf = () => testEnv.cephConf as string;
const enabled = async (user: string) =>
  (JSON.parse(await cephCli(conf(), ['dashboard', 'ac-user-show', user, '--format', 'json'])) as { enabled: boolean }).enabled;
/** Logins of `user` that reached Ceph. */
const loginsOf = (user: string) =>
  (proxy as RecordingProxy).received.filter((r) => r.method === 'POST' && r.url === '/api/auth' && r.body.toString('utf8').includes(`"${user}"`)).length;

describe('Ceph-native login over two replicas (real Ceph, one Postgres)', () => {
  before(async () => {
    if (!testEnv.cephUrl || !testEnv.cephConf || !testEnv.databaseUrl) return;
    await ensureTestAccounts(conf());
    for (const u of [USER, SPREAD, BURST]) {
      await cephCli(conf(), ['dashboard', 'ac-user-create', u.username, '-i', '-', 'read-only', '--force-password'], u.password);
    }
    proxy = await startRecordingProxy(testEnv.cephUrl);
    db = await throwawayDatabase('cephgate_replicas_native');
    const via = proxy.url;
    set = await startReplicas({
      count: 2,
      databaseUrl: db.url,
      policies: { 'native.yaml': POLICY },
      env: { CG_REPLICA_SESSION_KEY: sessionKey(), ...Object.fromEntries(TEST_ACCOUNTS.map((a) => [`CG_TEST_PW_${a.name.toUpperCase()}`, a.password])) },
      config: () => ({
        ceph: {
          clusters: [
            {
              name: 'main',
              dashboards: [via],
              release: 'auto',
              accounts: TEST_ACCOUNTS.map((a) => ({ name: a.name, username: a.username, password_env: `CG_TEST_PW_${a.name.toUpperCase()}` })),
              native_login: { enabled: true },
            },
          ],
        },
        identity: { sessions: { encryption_key_env: 'CG_REPLICA_SESSION_KEY' } },
        audit: {},
      }),
    });
  });
  after(async () => {
    await set?.close();
    await proxy?.close();
    await db?.drop();
  });

  test('a login through replica A works on B; a logout on B ends it on A', async (t) => {
    if (!need(t, 'ceph', 'postgres')) return;
    const [a, b] = (set as Replicas).replicas.map((r) => r.url) as [string, string];
    const login = await call(a, 'POST', '/api/auth', { body: USER });
    assert.equal(login.status, 201, JSON.stringify(login.body));
    const token = login.body.token as string;
    assert.match(token, /^cgn_/);

    const onB = await call(b, 'GET', '/api/pool', { token });
    assert.equal(onB.status, 200, JSON.stringify(onB.body));
    const checkOnB = await call(b, 'POST', '/api/auth/check', { body: { token } });
    assert.equal(checkOnB.body.username, USER.username);

    const out = await call(b, 'POST', '/api/auth/logout', { token });
    assert.equal(out.status, 200);
    assert.deepEqual(out.body, { redirect_url: '#/login' });
    const onA = await call(a, 'GET', '/api/pool', { token });
    assert.equal(onA.status, 401);
    assert.equal(onA.body.code, 'invalid_token');
    const checkOnA = await call(a, 'POST', '/api/auth/check', { body: { token } });
    assert.ok('login_url' in checkOnA.body, JSON.stringify(checkOnA.body));
  });

  test('10 wrong passwords alternating over both replicas: 5 reach Ceph, the rest are 429 on both, the account stays enabled', async (t) => {
    if (!need(t, 'ceph', 'postgres')) return;
    const urls = (set as Replicas).replicas.map((r) => r.url);
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) {
      const r = await call(urls[i % 2] as string, 'POST', '/api/auth', { body: { username: SPREAD.username, password: `wrong-${i}` } });
      statuses.push(r.status);
      if (r.status === 429) {
        assert.equal(r.body.code, 'too_many_requests');
        assert.ok(Number(r.headers['retry-after']) > 0);
      }
    }
    assert.deepEqual(statuses, [400, 400, 400, 400, 400, 429, 429, 429, 429, 429]);
    assert.equal(loginsOf(SPREAD.username), 5, 'Ceph saw 5 attempts, far from its lock-out at 10');
    // Even the right password waits now, on either replica, and Ceph is not asked.
    for (const u of urls) assert.equal((await call(u, 'POST', '/api/auth', { body: SPREAD })).status, 429);
    assert.equal(loginsOf(SPREAD.username), 5);
    assert.equal(await enabled(SPREAD.username), true, 'the Ceph account is still enabled');
  });

  test('a concurrent burst of 16 wrong passwords over both replicas: exactly 5 reach Ceph', async (t) => {
    if (!need(t, 'ceph', 'postgres')) return;
    const urls = (set as Replicas).replicas.map((r) => r.url);
    const burst = await Promise.all(
      Array.from({ length: 16 }, (_, i) => call(urls[i % 2] as string, 'POST', '/api/auth', { body: { username: BURST.username, password: `nope-${i}` } })),
    );
    const statuses = burst.map((r) => r.status);
    assert.equal(statuses.filter((s) => s === 400).length, 5, statuses.join(','));
    assert.equal(statuses.filter((s) => s === 429).length, 11, statuses.join(','));
    assert.equal(loginsOf(BURST.username), 5);
    assert.equal(await enabled(BURST.username), true);
  });
});
