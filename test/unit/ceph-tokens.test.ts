// Token exchange: single-flight, caching until exp, invalidation, and the breaker that protects Ceph
// service accounts from lock-out (10 failed logins disable them, docs/ceph-facts.md).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { UnsecuredJWT } from 'jose';
import { createTokenManager, type LoginHttp, type TokenAccount } from '../../src/ceph/tokens.ts';
import { GatewayError } from '../../src/core/errors.ts';

const silent = { debug() {}, info() {}, warn() {}, error() {} };
const jwt = (iatS: number, ttlS: number, jti: string) =>
  new UnsecuredJWT({ jti, username: 'svc' })
    .setIssuedAt(iatS)
    .setExpirationTime(iatS + ttlS)
    .encode();

function setup(opts: { password?: () => string; answer?: (body: string, n: number) => { status: number; body: string } | Error; delayMs?: number } = {}) {
  let clock = 1_700_000_000_000;
  const bodies: string[] = [];
  const http: LoginHttp = async (_cluster, body) => {
    bodies.push(body);
    await new Promise((r) => setTimeout(r, opts.delayMs ?? 5));
    const a = opts.answer?.(body, bodies.length) ?? { status: 201, body: JSON.stringify({ token: jwt(Math.floor(clock / 1000), 28800, `t${bodies.length}`) }) };
    if (a instanceof Error) throw a;
    return a;
  };
  const account: TokenAccount = { username: 'svc', password: opts.password ?? (() => 'pw') };
  const tm = createTokenManager({
    http,
    accounts: new Map([['c1', new Map([['svc', account]])]]),
    now: () => clock,
    log: silent,
    policy: { maxCredentialFailures: 3, backoffBaseMs: 1000, backoffMaxMs: 60_000 },
  });
  return { tm, bodies, advance: (ms: number) => (clock += ms) };
}

const gwCode = (e: unknown) => (e instanceof GatewayError ? `${e.status} ${e.code}` : String(e));
const wrongPassword = () => ({ status: 400, body: JSON.stringify({ detail: 'Invalid credentials', code: 'invalid_credentials', component: 'auth' }) });

describe('token manager', () => {
  test('20 concurrent first requests share one login', async () => {
    const { tm, bodies } = setup({ delayMs: 30 });
    const tokens = await Promise.all(Array.from({ length: 20 }, () => tm.getToken('c1', 'svc')));
    assert.equal(bodies.length, 1);
    assert.equal(new Set(tokens).size, 1);
    assert.deepEqual(JSON.parse(bodies[0] as string), { username: 'svc', password: 'pw' });
  });

  test('cached until shortly before exp, then renewed', async () => {
    const { tm, bodies, advance } = setup();
    const a = await tm.getToken('c1', 'svc');
    advance(28800_000 - 120_000);
    assert.equal(await tm.getToken('c1', 'svc'), a);
    advance(90_000); // within the last minute
    assert.notEqual(await tm.getToken('c1', 'svc'), a);
    assert.equal(bodies.length, 2);
  });

  test('a 401 invalidates the token: exactly one re-login for concurrent retries', async () => {
    const { tm, bodies } = setup();
    const a = await tm.getToken('c1', 'svc');
    for (let i = 0; i < 5; i++) tm.invalidate('c1', 'svc', a);
    const again = await Promise.all(Array.from({ length: 5 }, () => tm.getToken('c1', 'svc')));
    assert.equal(bodies.length, 2);
    // A late 401 for the old token must not throw away the new one.
    tm.invalidate('c1', 'svc', a);
    assert.equal(await tm.getToken('c1', 'svc'), again[0]);
    assert.equal(bodies.length, 2);
  });

  test('wrong password: 503 ceph_login_failed with Retry-After, breaker opens well before 10 attempts', async () => {
    const { tm, bodies, advance } = setup({ answer: wrongPassword });
    const errors: unknown[] = [];
    // A client hammering for an hour, one request a second.
    for (let i = 0; i < 3600; i++) {
      await tm.getToken('c1', 'svc').catch((e: unknown) => errors.push(e));
      advance(1000);
    }
    assert.equal(errors.length, 3600);
    assert.ok(bodies.length <= 3, `${bodies.length} login attempts`);
    const last = errors.at(-1) as GatewayError;
    assert.equal(gwCode(last), '503 ceph_login_failed');
    assert.ok(Number(last.headers['Retry-After']) >= 1);
    assert.equal(last.extra.retry_after, Number(last.headers['Retry-After']));
  });

  test('a corrected password re-arms the breaker', async () => {
    let pw = 'wrong';
    const { tm, bodies, advance } = setup({ password: () => pw, answer: (b) => (JSON.parse(b).password === 'right' ? undefined : wrongPassword()) as never });
    for (let i = 0; i < 10; i++) {
      await tm.getToken('c1', 'svc').catch(() => {});
      advance(120_000);
    }
    assert.equal(bodies.length, 3);
    pw = 'right';
    assert.match(await tm.getToken('c1', 'svc'), /^ey/);
    assert.equal(bodies.length, 4);
  });

  test('network failures back off exponentially and answer 503 ceph_unavailable', async () => {
    const { tm, bodies, advance } = setup({ answer: () => new GatewayError(502, 'upstream_unreachable', 'refused') });
    await assert.rejects(tm.getToken('c1', 'svc'), (e) => gwCode(e) === '503 ceph_unavailable');
    await assert.rejects(tm.getToken('c1', 'svc'), (e) => gwCode(e) === '503 ceph_unavailable');
    assert.equal(bodies.length, 1); // inside the back-off window
    advance(1000);
    await assert.rejects(tm.getToken('c1', 'svc'));
    assert.equal(bodies.length, 2);
    advance(1000); // now the window is 2 s
    await assert.rejects(tm.getToken('c1', 'svc'));
    assert.equal(bodies.length, 2);
  });

  test('unknown account is 503 ceph_unavailable without a login', async () => {
    const { tm, bodies } = setup();
    await assert.rejects(tm.getToken('c1', 'nobody'), (e) => gwCode(e) === '503 ceph_unavailable');
    await assert.rejects(tm.getToken('c9', 'svc'), (e) => gwCode(e) === '503 ceph_unavailable');
    assert.equal(bodies.length, 0);
  });
});
