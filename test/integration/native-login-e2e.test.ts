// The Ceph-native login as `buildGateway` wires it from configuration: an unmodified Ceph-API
// style client logs in through the gateway and works with the gateway-issued token.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { cephCli } from '../support/ceph-cli.ts';
import { type FullGateway, startFullGateway } from '../support/full-gateway.ts';
import { need, releaseSuite, testEnv } from '../support/requirements.ts';

// A release suite: test/run.ts runs this file against Pacific and against Reef.
releaseSuite();

const V1 = 'application/vnd.ceph.api.v1.0+json';
let gw: FullGateway | null = null;
// A person's own Ceph user (the gateway refuses logins as its own service accounts).
const user = { username: `nle2e-${Math.random().toString(36).slice(2, 8)}`, password: 'Native-e2e-1!' };

before(async () => {
  if (!testEnv.cephUrl) return;
  await cephCli(testEnv.cephConf as string, ['dashboard', 'ac-user-create', user.username, '-i', '-', 'read-only', '--force-password'], user.password);
  gw = await startFullGateway({
    config: (base) => {
      const ceph = base.ceph as { clusters: Record<string, unknown>[] };
      ceph.clusters[0] = { ...ceph.clusters[0], native_login: { enabled: true } };
      return base;
    },
  });
});
after(async () => {
  await gw?.close();
});

test('a Ceph API client logs in through the gateway and calls the API with the token it got', async (t) => {
  if (!need(t, 'ceph')) return;
  const url = (gw as FullGateway).url;
  // What a script written for the Ceph API does, pointed at the gateway.
  const login = await fetch(`${url}/api/auth`, { method: 'POST', headers: { accept: V1, 'content-type': 'application/json' }, body: JSON.stringify(user) });
  assert.equal(login.status, 201);
  const session = (await login.json()) as { token: string; username: string; permissions: Record<string, string[]> };
  assert.equal(session.username, user.username);
  assert.ok(session.token.startsWith('cgn_'), "a gateway-issued token, never Ceph's");
  assert.equal(login.headers.get('set-cookie'), null);

  const pools = await fetch(`${url}/api/pool`, { headers: { accept: V1, authorization: `Bearer ${session.token}` } });
  assert.equal(pools.status, 200);
  assert.ok(Array.isArray(await pools.json()));

  const logout = await fetch(`${url}/api/auth/logout`, { method: 'POST', headers: { accept: V1, authorization: `Bearer ${session.token}` } });
  assert.equal(logout.status, 200);
  const afterLogout = await fetch(`${url}/api/pool`, { headers: { accept: V1, authorization: `Bearer ${session.token}` } });
  assert.equal(afterLogout.status, 401);
});

test("a wrong password gets Ceph's own error shape", async (t) => {
  if (!need(t, 'ceph')) return;
  const res = await fetch(`${(gw as FullGateway).url}/api/auth`, {
    method: 'POST',
    headers: { accept: V1, 'content-type': 'application/json' },
    body: JSON.stringify({ username: user.username, password: 'wrong' }),
  });
  assert.equal(res.status, 400);
  assert.equal(((await res.json()) as { code: string }).code, 'invalid_credentials');
});
