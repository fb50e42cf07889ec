// Ceph-native login without Ceph: the brute-force limiter and the session store (on an in-memory PGlite,
// as they run on the shared database), Ceph answer checks, the authenticator's cluster rule, and the three
// endpoints as the pipeline's local answers (real sockets, the real pipeline and catalogue) with a scripted Ceph.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { after, test } from 'node:test';
import { sql } from 'drizzle-orm';
import { type CephAuth, interpretCheck, interpretLogin, type LoginVerdict } from '../../src/auth/native-login/ceph-auth.ts';
import { createNativeLogin, nativeLoginDefaults, nativeLoginSchema } from '../../src/auth/native-login/index.ts';
import { createLoginLimiter } from '../../src/auth/native-login/limiter.ts';
import { createNativeSessionStore } from '../../src/auth/native-login/sessions.ts';
import { loadCatalogue } from '../../src/ceph/catalogue.ts';
import type { ClusterRuntime } from '../../src/ceph/cluster-runtime.ts';
import { createRouteMatcher } from '../../src/ceph/route-matcher.ts';
import { GatewayError } from '../../src/core/errors.ts';
import type { AuthInput, Principal } from '../../src/core/principal.ts';
import type { Upstream } from '../../src/core/upstream.ts';
import { type Database, openDatabase } from '../../src/db/database.ts';
import { migrateDatabase } from '../../src/db/migrate.ts';
import { MemoryAudit, testConfig, testDeps } from '../support/doubles.ts';
import { type RunningGateway, startGateway } from '../support/gateway.ts';

const databases: Database[] = [];
after(async () => {
  for (const d of databases) await d.close();
});
/** A fresh in-memory database (PGlite starts in seconds on a busy machine: most tests share one). */
async function freshDatabase(): Promise<Database> {
  const d = await openDatabase({ pgliteDir: 'memory://' });
  await migrateDatabase(d);
  databases.push(d);
  return d;
}
let shared: Promise<Database> | null = null;
const database = (): Promise<Database> => {
  shared ??= freshDatabase();
  return shared;
};
// Each limiter its own cluster name: its own counters in the shared database.
let clusters = 0;
const limiter = async (policy: Parameters<typeof createLoginLimiter>[0]['policy'], now: () => number) =>
  createLoginLimiter({ database: await database(), cluster: `c${clusters++}`, policy, now });

const jwt = (exp: number) => `h.${Buffer.from(JSON.stringify({ exp, iat: exp - 100, username: 'u' })).toString('base64url')}.s`;

test('limiter: in-flight attempts count, so a burst cannot pass the limit before the first answer', async () => {
  const l = await limiter({ maxFailuresPerUser: 5, maxFailuresPerClient: 100, windowMs: 60_000, maxConsecutiveFailures: 8 }, () => 0);
  const admitted = (await Promise.all(Array.from({ length: 12 }, () => l.admit('u', 'ip')))).filter((a) => a.ok);
  assert.equal(admitted.length, 5);
});

test('limiter: window, success reset, and a consecutive cap that does not decay with time', async () => {
  let now = 0;
  const l = await limiter({ maxFailuresPerUser: 3, maxFailuresPerClient: 100, windowMs: 1000, maxConsecutiveFailures: 5 }, () => now);
  const fail = async () => {
    const a = await l.admit('u', 'ip');
    assert.ok(a.ok);
    await a.attempt.failed();
  };
  for (let i = 0; i < 3; i++) await fail();
  const refused = await l.admit('u', 'ip');
  assert.ok(!refused.ok && refused.reason === 'user' && refused.retryAfterS === 1);
  now = 1000; // window over: 2 more, then the consecutive cap (Ceph's counter never decays either)
  for (let i = 0; i < 2; i++) await fail();
  now = 10_000;
  const capped = await l.admit('u', 'ip');
  assert.ok(!capped.ok && capped.reason === 'consecutive');
  await l.reset('u');
  const ok = await l.admit('u', 'ip');
  assert.ok(ok.ok);
  await ok.attempt.succeeded();
  assert.deepEqual(await l.peek('u'), { failures: 0, inflight: 0, consecutive: 0 });
});

test('limiter: abandoned attempts (Ceph down) release the slot without counting; clients are limited across users', async () => {
  const l = await limiter({ maxFailuresPerUser: 2, maxFailuresPerClient: 3, windowMs: 60_000, maxConsecutiveFailures: 2 }, () => 0);
  for (let i = 0; i < 5; i++) {
    const a = await l.admit('u', 'ip');
    assert.ok(a.ok);
    await a.attempt.abandoned();
  }
  for (const u of ['a', 'b', 'c']) {
    const a = await l.admit(u, 'ip');
    assert.ok(a.ok);
    await a.attempt.failed();
  }
  const spray = await l.admit('d', 'ip');
  assert.ok(!spray.ok && spray.reason === 'client');
  assert.ok((await l.admit('d', 'other-ip')).ok);
});

test('limiter: two instances on one database share the counters; a reservation of a dead instance goes stale', async () => {
  const db = await database();
  let now = 0;
  const policy = { maxFailuresPerUser: 5, maxFailuresPerClient: 100, windowMs: 900_000, maxConsecutiveFailures: 8 };
  const a = createLoginLimiter({ database: db, cluster: 'shared', policy, now: () => now });
  const b = createLoginLimiter({ database: db, cluster: 'shared', policy, now: () => now });
  for (let i = 0; i < 4; i++) {
    const x = await (i % 2 === 0 ? a : b).admit('u', `ip${i}`);
    assert.ok(x.ok);
    await x.attempt.failed();
  }
  const held = await a.admit('u', 'ip9'); // in flight on A, never settled (A dies)
  assert.ok(held.ok);
  const refused = await b.admit('u', 'ip8');
  assert.ok(!refused.ok && refused.reason === 'user', 'the fifth slot is held by the attempt in flight on A');
  now = 5 * 60_000 + 1;
  assert.deepEqual(await b.peek('u'), { failures: 4, inflight: 0, consecutive: 4 });
  assert.ok((await b.admit('u', 'ip8')).ok, 'the dead reservation no longer counts');
});

test('limiter: rows of clients that stopped trying are swept after a window; a consecutive count stays', async () => {
  const db = await database();
  let now = 0;
  const policy = { maxFailuresPerUser: 5, maxFailuresPerClient: 100, windowMs: 60_000, maxConsecutiveFailures: 8 };
  const l = createLoginLimiter({ database: db, cluster: 'sweep', policy, now: () => now });
  const x = await l.admit('u', 'gone');
  assert.ok(x.ok);
  await x.attempt.failed();
  const rows = async () =>
    (
      (await db.db.execute(sql`select key from native_login_counters where key like '%:sweep/%' order by key`)) as unknown as { rows: { key: string }[] }
    ).rows.map((r) => r.key);
  assert.deepEqual(await rows(), ['client:sweep/gone', 'user:sweep/u']);
  now = 11 * 60_000; // past the window and the sweep interval: the next admission sweeps
  const y = await l.admit('v', 'new');
  assert.ok(y.ok);
  await y.attempt.abandoned();
  await new Promise((r) => setTimeout(r, 200)); // the sweep is not awaited by the admission
  assert.deepEqual(await rows(), ['user:sweep/u'], "the client's row went; the user's consecutive failure stays");
  assert.equal((await l.peek('u')).consecutive, 1);
});

test('config: defaults, and limits that must stay below Ceph lock-out', () => {
  const d = nativeLoginDefaults({ enabled: true });
  assert.equal(d.token_ttl_seconds, 28800);
  assert.deepEqual(d.default_groups, ['ceph-native']);
  assert.equal(nativeLoginSchema.safeParse({ max_consecutive_failures: 10 }).success, false);
  assert.equal(nativeLoginSchema.safeParse({ max_failures_per_user: 9, max_consecutive_failures: 8 }).success, false);
});

test('sessions: opaque token, lifetime capped by the Ceph token, revoke, malformed tokens never match', async () => {
  let now = 1_000_000;
  const store = createNativeSessionStore({ db: (await freshDatabase()).db, sealKey: randomBytes(32), maxSessions: 2, now: () => now });
  const fields = { cluster: 'main', username: 'u', permissions: {}, pwdExpirationDate: null, sso: false, pwdUpdateRequired: false };
  const { token, session } = await store.create({ ...fields, cephToken: jwt(now / 1000 + 60) }, 3_600_000);
  assert.match(token, /^cgn_[A-Za-z0-9_-]{43}$/);
  assert.equal(session.expiresAt, now + 60_000);
  assert.equal((await store.get(token))?.username, 'u');
  assert.equal(await store.get(`${token}x`), null);
  now += 60_000;
  assert.equal(await store.get(token), null, 'expired with its Ceph token');
  const a = await store.create({ ...fields, cephToken: 'not-a-jwt' }, 1000);
  assert.equal((await store.revoke(a.token))?.username, 'u');
  assert.equal(await store.get(a.token), null);
  now += 1;
  const b = await store.create({ ...fields, cephToken: 'x' }, 1000);
  now += 1;
  await store.create({ ...fields, cephToken: 'x' }, 1000);
  now += 1;
  await store.create({ ...fields, cephToken: 'x' }, 1000);
  assert.equal(await store.get(b.token), null, 'oldest evicted beyond max_sessions');
});

test('sessions: the Ceph token is sealed at rest, bound to its row, and another key cannot open it', async () => {
  const d = await freshDatabase();
  const key = randomBytes(32);
  const store = createNativeSessionStore({ db: d.db, sealKey: key, maxSessions: 10 });
  const cephToken = jwt(Math.floor(Date.now() / 1000) + 600);
  const { token } = await store.create(
    { cluster: 'main', username: 'u', cephToken, permissions: {}, pwdExpirationDate: null, sso: false, pwdUpdateRequired: false },
    60_000,
  );
  const dump = JSON.stringify(await d.db.execute(sql`select * from native_sessions`));
  assert.ok(!dump.includes(cephToken) && !dump.includes(token), 'neither the Ceph token nor the gateway token is stored');
  assert.equal((await store.get(token))?.cephToken, cephToken);
  // Another instance with the same database and key reads it; one with another key refuses it.
  assert.equal((await createNativeSessionStore({ db: d.db, sealKey: key, maxSessions: 10 }).get(token))?.cephToken, cephToken);
  assert.equal(await createNativeSessionStore({ db: d.db, sealKey: randomBytes(32), maxSessions: 10 }).get(token), null);
  // A sealed token moved to another row does not open there (associated data = the row key).
  const other = await store.create(
    { cluster: 'main', username: 'v', cephToken: 'y', permissions: {}, pwdExpirationDate: null, sso: false, pwdUpdateRequired: false },
    60_000,
  );
  await d.db.execute(sql`update native_sessions set ceph_token_enc = (select ceph_token_enc from native_sessions where username = 'u') where username = 'v'`);
  assert.equal(await store.get(other.token), null);
});

test("interpretLogin / interpretCheck read Ceph's answers", () => {
  const ok = interpretLogin(
    201,
    JSON.stringify({ token: 't', username: 'u', permissions: { pool: ['read'] }, pwdExpirationDate: null, sso: false, pwdUpdateRequired: false }),
  );
  assert.equal(ok.kind, 'ok');
  assert.equal(interpretLogin(400, '{"detail": "Invalid credentials", "code": "invalid_credentials", "component": "auth"}').kind, 'invalid');
  assert.equal(interpretLogin(400, '{"status": "400 Bad Request", "detail": "bad json"}').kind, 'unavailable', "only Ceph's refusal is a failed attempt");
  assert.equal(interpretLogin(500, '').kind, 'unavailable');
  assert.equal(interpretLogin(201, '{"username": "u"}').kind, 'unavailable');
  assert.equal(interpretCheck(200, '{"username": "u", "permissions": {}}').kind, 'valid');
  assert.deepEqual(interpretCheck(200, '{"login_url": "#/login", "cluster_status": "POST_INSTALLED"}'), {
    kind: 'invalid',
    body: { login_url: '#/login', cluster_status: 'POST_INSTALLED' },
  });
});

// ---- the endpoints through the real pipeline, with a scripted Ceph ----

const gateways: RunningGateway[] = [];
after(async () => {
  for (const g of gateways) await g.close();
});

function scriptedCeph(password: string): CephAuth & { logins: string[]; logouts: string[] } {
  const s = {
    logins: [] as string[],
    logouts: [] as string[],
    async login(_rt: ClusterRuntime, username: string, pw: string): Promise<LoginVerdict> {
      s.logins.push(username);
      if (pw !== password) return { kind: 'invalid' };
      return {
        kind: 'ok',
        answer: {
          token: jwt(Math.floor(Date.now() / 1000) + 28800),
          username,
          permissions: { pool: ['read'] },
          pwdExpirationDate: null,
          sso: false,
          pwdUpdateRequired: false,
        },
      };
    },
    async logout(_rt: ClusterRuntime, token: string) {
      s.logouts.push(token);
      return { status: 200 };
    },
    async check() {
      return { kind: 'invalid' as const, body: { login_url: '#/login' } };
    },
  };
  return s;
}

async function setup(clusters = [{ name: 'main', native_login: nativeLoginDefaults({ enabled: true, groups: { ops: ['operators'] } }) }, { name: 'east' }]) {
  const ceph = scriptedCeph('pw');
  const audit = new MemoryAudit();
  const rt = { accounts: new Map([['reader', { username: 'svc-reader', password: () => 'x' }]]) } as unknown as ClusterRuntime;
  const native = createNativeLogin({
    clusters,
    defaultCluster: 'main',
    bodyTimeoutMs: 2000,
    runtime: (n) => (clusters.some((c) => c.name === n) ? rt : undefined),
    forward: async () => assert.fail('no network'),
    audit,
    log: { debug() {}, info() {}, warn() {}, error() {} },
    database: await database(),
    sealKey: randomBytes(32),
    cephAuth: ceph,
  });
  const forwarded: string[] = [];
  const upstream: Upstream = {
    send: async (req) => {
      forwarded.push(req.pathAndQuery);
      return { status: 299, headers: {}, body: Readable.from([]) };
    },
    ping: async () => true,
    close: async () => {},
  };
  const names = clusters.map((c) => c.name);
  const catalogue = loadCatalogue('pacific');
  const deps = testDeps({
    // Ceph's own auth endpoints are unauthenticated operations: forwarded only where a cluster lists them.
    config: testConfig({
      ceph: { clusters: names.map((name) => ({ name, dashboards: ['http://127.0.0.1:9'], forward_unauthenticated_paths: ['/api/auth', '/api/auth/logout'] })) },
    }),
    upstream,
    audit,
    matchRoute: createRouteMatcher({
      catalogues: new Map(names.map((n) => [n, catalogue])),
      defaultCluster: 'main',
      allowUnknown: new Map(names.map((n) => [n, false])),
    }),
    localAnswers: new Map([...native.answers].map(([op, answer]) => [op, [answer]])),
  });
  const gw = await startGateway(deps);
  gateways.push(gw);
  const request = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${gw.url}${path}`, {
      method: 'POST',
      headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), accept: 'application/vnd.ceph.api.v1.0+json', ...headers },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  return { ceph, audit, native, post: request, forwarded };
}

const input = (token: string, cluster: string | null = null): AuthInput => ({
  method: 'GET',
  clientIp: '127.0.0.1',
  headers: new Map([['authorization', [`Bearer ${token}`]]]),
  target: { raw: '/api/pool', rawPath: '/api/pool', segments: ['api', 'pool'], rawQuery: '', query: {}, cluster },
});

test("login answers in Ceph's shape with a gateway token; the principal is ceph:<cluster>/<user> with mapped groups", async () => {
  const { post, native, audit } = await setup();
  const res = await post('/api/auth', { username: 'ops', password: 'pw', ttl: 99 });
  assert.equal(res.status, 201);
  assert.equal(res.headers.get('content-type'), 'application/vnd.ceph.api.v1.0+json');
  const body = (await res.json()) as { token: string; username: string };
  assert.match(body.token, /^cgn_/);
  const r = await native.authenticator.authenticate(input(body.token));
  assert.equal(r.kind, 'ok');
  const p = (r as { principal: Principal }).principal;
  assert.deepEqual([p.id, p.method, p.cephUser, p.groups], ['ceph:main/ops', 'ceph_native', 'ops', ['operators']]);
  assert.match(native.credentialFor(p, 'main').token, /^h\./);
  assert.deepEqual(audit.intents.at(-1)?.body, { username: 'ops' }, 'no password in the audit record');
});

test('a token is refused on another cluster, and credentialFor never hands one across clusters', async () => {
  const { post, native } = await setup();
  const { token } = (await (await post('/api/auth', { username: 'u', password: 'pw' })).json()) as { token: string };
  const other = await native.authenticator.authenticate(input(token, 'east'));
  assert.equal(other.kind, 'fail');
  const p = ((await native.authenticator.authenticate(input(token))) as { principal: Principal }).principal;
  assert.throws(
    () => native.credentialFor(p, 'east'),
    (e: unknown) => e instanceof GatewayError && e.status === 401,
  );
  native.credentialFor(p, 'main').rejected();
  assert.throws(
    () => native.credentialFor(p, 'main'),
    (e: unknown) => e instanceof GatewayError && e.code === 'invalid_token',
  );
  assert.equal((await native.authenticator.authenticate(input(token))).kind, 'fail', 'Ceph refused the token: the session ended');
});

test('wrong passwords: 400 Ceph shape, then 429 without asking Ceph; service accounts never reach Ceph', async () => {
  const { post, ceph } = await setup();
  // A user of its own: the tests share one database, and with it the failure counters.
  for (let i = 0; i < 5; i++) {
    const res = await post('/api/auth', { username: 'guessed', password: 'bad' });
    assert.equal(res.status, 400);
    assert.deepEqual(await res.json(), { detail: 'Invalid credentials', code: 'invalid_credentials', component: 'auth' });
  }
  const limited = await post('/api/auth', { username: 'guessed', password: 'pw' });
  assert.equal(limited.status, 429);
  assert.ok(Number(limited.headers.get('retry-after')) > 0);
  assert.equal(ceph.logins.length, 5);
  assert.equal((await post('/api/auth', { username: 'svc-reader', password: 'x' })).status, 400);
  assert.equal(ceph.logins.length, 5);
});

test('logout revokes the gateway token and logs the Ceph token out; check answers login_url after', async () => {
  const { post, native, ceph } = await setup();
  const { token } = (await (await post('/api/auth', { username: 'u', password: 'pw' })).json()) as { token: string };
  const out = await post('/api/auth/logout', undefined, { authorization: `Bearer ${token}` });
  assert.equal(out.status, 200);
  assert.deepEqual(await out.json(), { redirect_url: '#/login' });
  assert.equal(ceph.logouts.length, 1);
  assert.equal((await native.authenticator.authenticate(input(token))).kind, 'fail');
  const check = await post('/api/auth/check', { token });
  assert.deepEqual(await check.json(), { login_url: '#/login' });
});

test('where native login is off, the endpoints fall through to the pipeline; unknown clusters are 404', async () => {
  const { post, forwarded } = await setup([
    { name: 'main', native_login: nativeLoginDefaults({ enabled: true }) },
    { name: 'east', native_login: nativeLoginDefaults({ enabled: false }) },
  ]);
  const res = await post('/clusters/east/api/auth', { username: 'u', password: 'pw' });
  assert.equal(res.status, 299, 'reached the (stub) pipeline upstream');
  assert.deepEqual(forwarded, ['/api/auth']);
  const unknown = await post('/clusters/west/api/auth', { username: 'u', password: 'pw' });
  assert.equal(unknown.status, 404);
  const other = await post('/api/auth/logout', undefined, { authorization: 'Bearer not-native' });
  assert.equal(other.status, 299, "a non-gateway-token logout is the pipeline's");
});

test('excludingNativeTokens keeps other bearer authenticators away from gateway tokens', async () => {
  const { native } = await setup();
  const jwtAuth = { name: 'oidc_bearer', detects: () => true, authenticate: async () => assert.fail('must not judge cgn_ tokens') as never };
  const wrapped = native.excludingNativeTokens(jwtAuth);
  const tok = `cgn_${'A'.repeat(43)}`;
  assert.equal(wrapped.detects?.(input(tok)), false);
  assert.deepEqual(await wrapped.authenticate(input(tok)), { kind: 'skip' });
  assert.equal(wrapped.detects?.(input('eyJ.x.y')), true);
});
