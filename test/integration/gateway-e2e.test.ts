// End to end through the whole gateway (real IdP token, example policies, real audit store) in
// front of the real Ceph: the policy issue's "done when" scenario for team A, checked on Ceph's side.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { apiCall } from '../support/api-call.ts';
import { cephCli } from '../support/ceph-cli.ts';
import { type FullGateway, startFullGateway } from '../support/full-gateway.ts';
import { need, releaseSuite, testEnv } from '../support/requirements.ts';

// A release suite: test/run.ts runs this file against Pacific and against Reef.
releaseSuite();

let gw: FullGateway | null = null;
const suffix = Math.random().toString(36).slice(2, 8);

const call = (method: string, path: string, token: string, body?: unknown) => apiCall((gw as FullGateway).url, method, path, token, body);

const pools = async () => (await cephCli(testEnv.cephConf as string, ['osd', 'pool', 'ls'])).split('\n');

describe('team A through the gateway to the real Ceph', () => {
  before(async () => {
    if (testEnv.cephUrl) gw = await startFullGateway();
  });
  after(async () => {
    await gw?.close();
  });

  test("creates its own pool, is refused another team's, nothing reaches Ceph", async (t) => {
    if (!need(t, 'ceph')) return;
    const alice = await (gw as FullGateway).token('alice');
    const own = await call('POST', '/api/pool', alice, { pool: `team-a-${suffix}`, pg_num: 8, pool_type: 'replicated', application_metadata: ['rbd'] });
    assert.ok(own.status === 201 || own.status === 202, JSON.stringify(own.body));
    assert.ok((await pools()).includes(`team-a-${suffix}`));

    const other = await call('POST', '/api/pool', alice, { pool: `team-b-${suffix}`, pg_num: 8, pool_type: 'replicated' });
    assert.equal(other.status, 403);
    assert.equal(other.body.code, 'policy_denied');
    assert.equal((await pools()).includes(`team-b-${suffix}`), false);
  });

  test("is refused an RBD image in its pool whose data_pool is team B's", async (t) => {
    if (!need(t, 'ceph')) return;
    const alice = await (gw as FullGateway).token('alice');
    const res = await call('POST', '/api/block/image', alice, { name: 'img1', pool_name: `team-a-${suffix}`, data_pool: `team-b-${suffix}`, size: 1048576 });
    assert.equal(res.status, 403);
    assert.equal(res.body.code, 'policy_denied');
  });

  test('creates an RBD image in its own pool and reads it back through an encoded image_spec', async (t) => {
    if (!need(t, 'ceph')) return;
    const alice = await (gw as FullGateway).token('alice');
    const created = await call('POST', '/api/block/image', alice, { name: 'img1', pool_name: `team-a-${suffix}`, size: 4194304 });
    assert.ok(created.status === 201 || created.status === 202, JSON.stringify(created.body));
    const got = await call('GET', `/api/block/image/team-a-${suffix}%2Fimg1`, alice);
    assert.equal(got.status, 200, JSON.stringify(got.body));
    assert.equal(got.body.name, 'img1');
    assert.equal(got.headers['content-type'], 'application/json');
  });

  test("is refused another team's image through an encoded image_spec", async (t) => {
    if (!need(t, 'ceph')) return;
    const alice = await (gw as FullGateway).token('alice');
    const res = await call('DELETE', '/api/block/image/team-b%2Fimg', alice);
    assert.equal(res.status, 403);
  });

  test('may read OSDs and is refused setting OSD flags', async (t) => {
    if (!need(t, 'ceph')) return;
    const alice = await (gw as FullGateway).token('alice');
    const osds = await call('GET', '/api/osd', alice);
    assert.equal(osds.status, 200);
    assert.ok(Array.isArray(osds.body));
    const flags = await call('PUT', '/api/osd/flags', alice, { flags: ['noout'] });
    assert.equal(flags.status, 403);
    assert.ok(flags.body.rule, 'the 403 names the deciding rule');
  });

  test('the audit API shows the mutation and the denial with principal and decision', async (t) => {
    if (!need(t, 'ceph')) return;
    const dave = await (gw as FullGateway).token('dave');
    const page = await call('GET', `/gateway/v1/audit?pool=team-a-${suffix}&limit=50`, dave);
    assert.equal(page.status, 200, JSON.stringify(page.body));
    const create = page.body.items.find((r: { method: string; route: string }) => r.method === 'POST' && r.route === '/api/pool');
    assert.ok(create, 'pool creation audited');
    assert.equal(create.principal.id.endsWith('#alice'), true);
    assert.deepEqual(create.principal.groups, ['team-a']);
    assert.equal(create.decision.effect, 'allow');
    assert.ok([201, 202].includes(create.upstream_status));
  });

  test('HEAD is decided as the GET it maps to and answered with its headers only', async (t) => {
    if (!need(t, 'ceph')) return;
    const g = gw as FullGateway;
    const head = await fetch(`${g.url}/api/pool`, { method: 'HEAD', headers: { authorization: `Bearer ${await g.token('alice')}` } });
    assert.equal(head.status, 200);
    assert.equal(await head.text(), '');
    assert.ok(Number(head.headers.get('content-length')) > 0, "the GET answer's length");
    // bob (team-b) may read images and pools, not OSDs: decided exactly as the GET would be.
    const denied = await fetch(`${g.url}/api/osd`, { method: 'HEAD', headers: { authorization: `Bearer ${await g.token('bob')}` } });
    assert.equal(denied.status, 403);
  });

  test("Ceph's own errors carry the gateway's request id (Ceph's alongside)", async (t) => {
    if (!need(t, 'ceph')) return;
    const g = gw as FullGateway;
    // Verified on 16.2.15: an OSD id that does not exist is a 500 from Ceph with its own request id.
    const res = await fetch(`${g.url}/api/osd/99999`, { headers: { authorization: `Bearer ${await g.token('alice')}` } });
    assert.equal(res.status, 500);
    const body = (await res.json()) as Record<string, string>;
    assert.equal(body.request_id, res.headers.get('x-request-id'));
    assert.match(body.ceph_request_id ?? '', /^[0-9a-f-]{36}$/);
    assert.notEqual(body.ceph_request_id, body.request_id);
    assert.equal(body.status, '500 Internal Server Error');
  });
});
