// A browser session's group refresh under concurrency across instances: one refresh wins, the others use
// its result, and the session stays valid. First two authenticators ("instances") on one database with an
// identity provider that rotates refresh tokens and revokes the grant when one is used twice (RFC 9700
// 4.14.2), then two real gateway processes on one Postgres with the dev OIDC provider: 50 concurrent
// requests of one session spread over both, after its refresh fell due.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, test } from 'node:test';
import { eq } from 'drizzle-orm';
import pg from 'pg';
import { type DevIdp, startDevIdp } from '../../scripts/dev-idp/provider.ts';
import type { RelyingParty } from '../../src/auth/browser/oidc-client.ts';
import { seal } from '../../src/auth/browser/seal.ts';
import { createSessionAuthenticator } from '../../src/auth/browser/session-auth.ts';
import { createBrowserSessionStore } from '../../src/auth/browser/session-store.ts';
import { sessionsSchema } from '../../src/config/identity.ts';
import type { Principal } from '../../src/core/principal.ts';
import { type Database, openDatabase } from '../../src/db/database.ts';
import { migrateDatabase } from '../../src/db/migrate.ts';
import { sessions } from '../../src/db/schema.ts';
import { issuerConfigFor } from '../support/oidc.ts';
import { need } from '../support/requirements.ts';
import { type ThrowawayDatabase, throwawayDatabase } from '../support/throwaway-database.ts';
import { type CephStandIn, freePort, type Replicas, sessionKey, startCephStandIn, startReplicas } from './replicas-harness.ts';

const cleanup: (() => Promise<void>)[] = [];
after(async () => {
  for (const f of cleanup.reverse()) await f();
});

/** An IdP that rotates refresh tokens: each works once; a used one presented again revokes the grant. */
function rotatingIdp(groups: () => string[]) {
  const live = new Set<string>(['rt-0']);
  let n = 0;
  let revoked = false;
  const rp: RelyingParty = {
    start: async () => assert.fail('not used'),
    finish: async () => assert.fail('not used'),
    endSessionUrl: async () => null,
    async refresh(rt) {
      n++;
      await new Promise((r) => setTimeout(r, 30)); // a real token endpoint takes a while: races have room
      if (revoked || !live.has(rt)) {
        revoked = true; // reuse detected: the whole grant is gone
        throw new Error('invalid_grant');
      }
      live.delete(rt);
      const next = `rt-${n}`;
      live.add(next);
      return { claims: { iss: 'https://idp.test', sub: 'alice', name: 'Alice', groups: groups() }, refreshToken: next, idToken: null };
    },
  };
  return { rp, calls: () => n, revoked: () => revoked };
}

describe('browser session refresh across instances', () => {
  test('in process: 50 concurrent lookups over two instances sharing one database make one IdP call; the session stays valid', async () => {
    const database: Database = await openDatabase({ pgliteDir: 'memory://' });
    cleanup.push(() => database.close());
    await migrateDatabase(database);
    const store = createBrowserSessionStore(database.db);
    const key = randomBytes(32);
    let clock = Date.now();
    let groups = ['team-a'];
    const idp = rotatingIdp(() => groups);
    const issuer = { ...issuerConfigFor({ issuer: 'https://idp.test' } as DevIdp), name: 'test' };
    const settings = sessionsSchema.parse({ groups_refresh_seconds: 300 });
    const instance = () =>
      createSessionAuthenticator({
        store,
        rp: idp.rp,
        issuer,
        sessions: settings,
        cookieName: 's',
        origin: 'https://gw.test',
        sealKey: key,
        now: () => new Date(clock),
      });
    const [a, b] = [instance(), instance()];
    const principal: Principal = {
      id: 'https://idp.test#alice',
      name: 'Alice',
      email: null,
      groups: ['team-a'],
      method: 'session',
      authenticatedAt: new Date(clock),
      apiKeyName: null,
      claims: { sub: 'alice' },
    };
    const { cookie, row } = await store.create(
      { principal, expiresAt: new Date(clock + 3_600_000), refreshTokenEnc: null, idTokenHint: null, now: new Date(clock) },
      (rowId) => seal(key, 'rt-0', rowId),
    );

    groups = ['team-a', 'operators'];
    clock += 301_000; // the refresh is due
    const seen = await Promise.all(Array.from({ length: 50 }, (_, i) => (i % 2 === 0 ? a : b).lookup(cookie)));
    assert.equal(seen.filter((s) => s !== null).length, 50, 'every request kept its session');
    assert.ok(
      seen.every((s) => s?.principal.groups.includes('operators')),
      'every request saw the refreshed groups',
    );
    assert.equal(idp.calls(), 1, 'one refresh reached the IdP');
    assert.equal(idp.revoked(), false);
    const [after1] = await database.db.select().from(sessions).where(eq(sessions.id, row.id));
    assert.equal(after1?.refreshGeneration, 1);
    assert.equal(after1?.refreshLeaseUntil, null);

    // The next due refresh uses the rotated token (rt-1): still one call, still valid.
    clock += 301_000;
    const again = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? b : a).lookup(cookie)));
    assert.ok(again.every((s) => s !== null));
    assert.equal(idp.calls(), 2);
    assert.equal(idp.revoked(), false);
  });

  test('two gateway processes on one Postgres: 50 concurrent refreshes of one session leave it valid, one refresh done', async (t) => {
    if (!need(t, 'postgres')) return;
    const db: ThrowawayDatabase = await throwawayDatabase('cephgate_replicas_browser');
    cleanup.push(() => db.drop());
    const ceph: CephStandIn = await startCephStandIn();
    cleanup.push(() => ceph.close());
    const ports = [await freePort(), await freePort()];
    const origins = ports.map((p) => `http://127.0.0.1:${p}`);
    const idp = await startDevIdp({ redirectUris: origins.map((o) => `${o}/gateway/callback`), postLogoutRedirectUris: origins.map((o) => `${o}/gateway/`) });
    cleanup.push(() => idp.stop());
    const set: Replicas = await startReplicas({
      count: 2,
      ports,
      databaseUrl: db.url,
      policies: { 'none.yaml': 'rules: []\n' },
      env: { CG_REPLICA_SESSION_KEY: sessionKey(), CG_REPLICA_OIDC_SECRET: idp.browserClient.clientSecret, CG_REPLICA_CEPH_PW: 'x' },
      config: (port) => ({
        server: { public_url: `http://127.0.0.1:${port}` },
        ceph: {
          clusters: [
            { name: 'main', dashboards: [ceph.url], release: 'pacific', accounts: [{ name: 'svc', username: 'svc', password_env: 'CG_REPLICA_CEPH_PW' }] },
          ],
        },
        identity: {
          issuers: [{ name: 'dev', issuer: idp.issuer, audiences: ['cephgate'] }],
          browser_login: {
            enabled: true,
            issuer: 'dev',
            client_id: idp.browserClient.clientId,
            client_secret_env: 'CG_REPLICA_OIDC_SECRET',
            scopes: 'openid profile email groups',
          },
          sessions: { encryption_key_env: 'CG_REPLICA_SESSION_KEY', groups_refresh_seconds: 1 },
        },
        audit: {},
      }),
    });
    cleanup.push(() => set.close());
    const [a, b] = set.replicas as [(typeof set.replicas)[0], (typeof set.replicas)[0]];

    const cookie = await browserLogin(a.url, 'alice');
    const whoami = (base: string) => fetch(`${base}/gateway/whoami`, { headers: { cookie } });
    assert.equal((await whoami(b.url)).status, 200, 'the session works on the other replica');

    idp.setGroups('alice', ['team-a', 'operators']);
    await new Promise((r) => setTimeout(r, 1500)); // groups_refresh_seconds: 1 -> the refresh is due
    const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => whoami(i % 2 === 0 ? a.url : b.url)));
    const statuses = answers.map((r) => r.status);
    assert.deepEqual(
      statuses.filter((s) => s !== 200),
      [],
      statuses.join(','),
    );
    const bodies = (await Promise.all(answers.map((r) => r.json()))) as { groups: string[] }[];
    assert.ok(
      bodies.every((x) => x.groups.includes('operators')),
      'every answer used the refreshed groups',
    );

    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    cleanup.push(() => client.end());
    const { rows } = await client.query<{ refresh_generation: number; ended_at: Date | null }>('select refresh_generation, ended_at from sessions');
    assert.equal(rows.length, 1);
    assert.equal(rows[0]?.refresh_generation, 1, 'exactly one of the 50 refreshed; the others used its result');
    assert.equal(rows[0]?.ended_at, null);
    assert.equal((await whoami(a.url)).status, 200, 'still valid afterwards');
    assert.equal((await whoami(b.url)).status, 200);
  });
});

/** Authorization code flow as a browser does it, with fetch and a cookie jar per origin: returns the session cookie. */
async function browserLogin(gateway: string, user: string): Promise<string> {
  const jar = new Map<string, Map<string, string>>();
  const cookiesFor = (url: URL) => [...(jar.get(url.origin) ?? new Map()).entries()].map(([k, v]) => `${k}=${v}`).join('; ');
  const keep = (url: URL, res: Response) => {
    const j = jar.get(url.origin) ?? new Map<string, string>();
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const i = (pair as string).indexOf('=');
      j.set((pair as string).slice(0, i), (pair as string).slice(i + 1));
    }
    jar.set(url.origin, j);
  };
  let url = new URL('/gateway/login?rd=/gateway/whoami', gateway);
  let init: RequestInit = {};
  for (let hop = 0; hop < 15; hop++) {
    const res = await fetch(url, { ...init, redirect: 'manual', headers: { ...(init.headers as object), cookie: cookiesFor(url) } });
    keep(url, res);
    const location = res.headers.get('location');
    if (res.status === 200 && url.pathname.startsWith('/interaction/')) {
      // The provider's login form: post the demo credentials to it.
      await res.text();
      url = new URL(`${url.pathname}/login`, url);
      init = {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ username: user, password: 'demo' }).toString(),
      };
      continue;
    }
    await res.arrayBuffer();
    if (location === null) break;
    url = new URL(location, url);
    init = {};
    const session = jar.get(new URL(gateway).origin)?.get('cephgate_session');
    if (session !== undefined && session !== '') return `cephgate_session=${session}`;
  }
  throw new Error('browser login did not end with a session cookie');
}
