// docs/security.md class 5 (bodies), through the whole gateway in front of the real Ceph: every way a
// request could name a pool Ceph acts on but the policy never saw. Ceph builds handler arguments from
// the path, then the query (overriding it), then the JSON body (overriding both, and only when
// Content-Type is exactly application/json): each channel is tried, and checked on Ceph's side.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { cephCli } from '../support/ceph-cli.ts';
import { type FullGateway, startFullGateway } from '../support/full-gateway.ts';
import { rawRequest } from '../support/raw-http.ts';
import { need, releaseSuite, testEnv } from '../support/requirements.ts';
import { auditRowsOf, call, cephPools, requestIdOf, unique } from './support.ts';

// A release suite: test/run.ts runs this file against Pacific and against Reef.
releaseSuite();

let gw: FullGateway | null = null;
const s = unique();
const own = `team-a-${s}`;
const foreign = `team-b-${s}`;
const conf = () => testEnv.cephConf as string;
const g = () => gw as FullGateway;

async function refusedAndAudited(res: Awaited<ReturnType<typeof call>>, status: number, code: string): Promise<void> {
  assert.equal(res.status, status, res.text);
  assert.equal(res.json?.code, code);
  const rows = await auditRowsOf(g(), requestIdOf(res));
  assert.equal(rows.length, 1, 'the refusal is audited');
  assert.equal(rows[0]?.upstream_status, null, 'nothing was forwarded');
}

describe('bodies: what Ceph acts on is what the policy decided on', () => {
  before(async () => {
    if (!testEnv.cephUrl) return;
    gw = await startFullGateway();
    // The other team's pool exists, so that a request that reached it would visibly change it.
    await cephCli(conf(), ['osd', 'pool', 'create', foreign, '8']);
    const alice = await g().token('alice');
    const created = await call(g().url, 'POST', '/api/pool', { token: alice, body: JSON.stringify({ pool: own, pg_num: 8, pool_type: 'replicated' }) });
    assert.ok([201, 202].includes(created.status), created.text);
  });
  after(async () => {
    await gw?.close();
  });

  test('a JSON body Ceph ignores (Content-Type with charset) cannot hide a query-string pool', async (t) => {
    if (!need(t, 'ceph')) return;
    // Verified on 16.2.15: with `; charset=utf-8` Ceph drops the body and creates the query's pool.
    const smuggled = `team-b-q${s}`;
    const res = await call(g().url, 'POST', `/api/pool?pool=${smuggled}&pg_num=8&pool_type=replicated`, {
      token: await g().token('alice'),
      body: JSON.stringify({ pool: `team-a-q${s}`, pg_num: 8, pool_type: 'replicated' }),
      headers: { 'content-type': 'application/json; charset=utf-8' },
    });
    await refusedAndAudited(res, 403, 'policy_denied');
    const pools = await cephPools();
    assert.equal(pools.includes(smuggled), false);
    assert.equal(pools.includes(`team-a-q${s}`), false);
  });

  test('a pool field in the query string (data_pool) cannot sit beside an allowed body', async (t) => {
    if (!need(t, 'ceph')) return;
    const res = await call(g().url, 'POST', `/api/block/image?data_pool=${foreign}`, {
      token: await g().token('alice'),
      body: JSON.stringify({ name: 'smuggle', pool_name: own, size: 1048576 }),
    });
    await refusedAndAudited(res, 403, 'policy_denied');
    const images = await cephCli(conf(), ['--format', 'json', 'osd', 'pool', 'ls', 'detail']);
    assert.ok(images.length > 0);
  });

  test('a pool name in the query string alone cannot create a pool the body does not name', async (t) => {
    if (!need(t, 'ceph')) return;
    const smuggled = `team-b-r${s}`;
    const res = await call(g().url, 'POST', `/api/pool?pool=${smuggled}`, {
      token: await g().token('alice'),
      body: JSON.stringify({ pg_num: 8, pool_type: 'replicated' }),
    });
    await refusedAndAudited(res, 403, 'policy_denied');
    assert.equal((await cephPools()).includes(smuggled), false);
  });

  test('a body pool_name cannot replace the pool named in the path (PUT /api/pool/{pool_name})', async (t) => {
    if (!need(t, 'ceph')) return;
    // Verified on 16.2.15: the body's pool_name wins over the path's; Ceph would change the other team's pool.
    const res = await call(g().url, 'PUT', `/api/pool/${own}`, {
      token: await g().token('alice'),
      body: JSON.stringify({ pool_name: foreign, application_metadata: ['rgw'] }),
    });
    await refusedAndAudited(res, 403, 'policy_denied');
    const apps = JSON.parse(await cephCli(conf(), ['osd', 'pool', 'application', 'get', foreign, '--format', 'json'])) as Record<string, unknown>;
    assert.deepEqual(Object.keys(apps), [], "the other team's pool is untouched");
  });

  test('duplicate JSON keys (first vs last wins) are never decided on', async (t) => {
    if (!need(t, 'ceph')) return;
    const a = `team-a-d${s}`;
    const b = `team-b-d${s}`;
    const res = await call(g().url, 'POST', '/api/pool', {
      token: await g().token('alice'),
      body: `{"pool":"${a}","pg_num":8,"pool_type":"replicated","pool":"${b}"}`,
    });
    await refusedAndAudited(res, 403, 'policy_denied');
    const pools = await cephPools();
    assert.equal(pools.includes(a) || pools.includes(b), false);
  });

  test('a form-encoded body (read by cherrypy as arguments) is refused before any decision', async (t) => {
    if (!need(t, 'ceph')) return;
    const b = `team-b-f${s}`;
    const res = await call(g().url, 'POST', '/api/pool', {
      token: await g().token('alice'),
      body: `pool=${b}&pg_num=8&pool_type=replicated`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    await refusedAndAudited(res, 415, 'unsupported_media_type');
    assert.equal((await cephPools()).includes(b), false);
  });

  test('a body over the size limit is refused before anything is read further', async (t) => {
    if (!need(t, 'ceph')) return;
    const res = await call(g().url, 'POST', '/api/pool', {
      token: await g().token('alice'),
      body: JSON.stringify({ pool: own, pad: 'x'.repeat(2 * 1024 * 1024) }),
    });
    assert.equal(res.status, 413);
    assert.equal(res.json?.code, 'body_too_large');
  });

  test('Content-Length with Transfer-Encoding (request smuggling) is refused by the parser', async (t) => {
    if (!need(t, 'ceph')) return;
    const body = JSON.stringify({ pool: `team-b-s${s}`, pg_num: 8, pool_type: 'replicated' });
    const res = await rawRequest(g().port, [
      `POST /api/pool HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nTransfer-Encoding: chunked\r\n\r\n`,
      `${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`,
    ]);
    assert.equal(res.status, 400);
    assert.equal(JSON.parse(res.body).code, 'conflicting_length');
    assert.equal((await cephPools()).includes(`team-b-s${s}`), false);
  });

  test('a GET with a body is refused (parsers disagree on GET bodies)', async (t) => {
    if (!need(t, 'ceph')) return;
    const res = await rawRequest(g().port, [
      `GET /api/pool HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${await g().token('alice')}\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}`,
    ]);
    assert.equal(res.status, 400);
    assert.equal(JSON.parse(res.body).code, 'bad_request');
  });
});
