// docs/security.md class 1 and 5, the `;` query bypass found against a real Ceph: a team-a caller named a
// team-a resource in the path and a team-b one in the query (`?flags=;pool_name=team-b-victim`), the
// gateway decided on the first and Ceph, which splits queries on `;` too and lets query arguments
// replace path parameters, acted on the second. Each request of the report is replayed through the
// whole gateway in front of the real Ceph, with a bearer token and an API key: nothing changes on
// Ceph's side, the refusal is audited, and an audit search by the victim's pool finds it.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { cephCli } from '../support/ceph-cli.ts';
import { type FullGateway, startFullGateway } from '../support/full-gateway.ts';
import { need, testEnv } from '../support/requirements.ts';
import { auditRowsOf, call, cephPools, requestIdOf, unique } from './support.ts';

const run = promisify(execFile);
const s = unique();
const own = `team-a-p${s}`;
const victim = `team-b-victim${s}`;
const conf = () => testEnv.cephConf as string;
let gw: FullGateway | null = null;
const g = () => gw as FullGateway;

const rbd = async (...args: string[]) => (await run('rbd', ['-c', conf(), ...args], { timeout: 60_000 })).stdout;
const images = async (pool: string) => (await rbd('ls', pool)).split('\n').filter(Boolean);
const quota = async (pool: string) =>
  (JSON.parse(await cephCli(conf(), ['osd', 'pool', 'get-quota', pool, '--format', 'json'])) as { quota_max_objects: number }).quota_max_objects;

/** The credentials of a team-a caller: an OIDC bearer token, and an API key of the team-a group. */
const credentials: Record<string, () => Promise<Record<string, string>>> = {
  bearer: async () => ({ authorization: `Bearer ${await g().token('alice')}` }),
  'api key': async () => {
    const made = await call(g().url, 'POST', '/gateway/v1/apikeys', {
      token: await g().token('erin'),
      body: JSON.stringify({ name: `team-a-${unique()}`, groups: ['team-a'], expires: '1d' }),
    });
    assert.equal(made.status, 201, made.text);
    return { authorization: `Bearer ${made.json?.key as string}` };
  },
};

async function refusedAndFoundByVictimPool(res: Awaited<ReturnType<typeof call>>, status: number, code: string): Promise<void> {
  assert.equal(res.status, status, res.text);
  assert.equal(res.json?.code, code);
  const id = requestIdOf(res);
  const rows = await auditRowsOf(g(), id);
  assert.equal(rows.length, 1, 'the refusal is audited');
  assert.equal(rows[0]?.upstream_status ?? null, null, 'nothing was forwarded');
  assert.equal(rows[0]?.status, status);
  // The record names every pool the request could act on, so an auditor searching the victim's pool finds it.
  const dave = await g().token('dave');
  const byPool = await call(g().url, 'GET', `/gateway/v1/audit?pool=${encodeURIComponent(victim)}&limit=1000`, { token: dave });
  assert.equal(byPool.status, 200, byPool.text);
  assert.ok(
    (byPool.json as { items: { request_id: string }[] }).items.some((r) => r.request_id === id),
    'found by the victim pool',
  );
}

describe('the ; query bypass, replayed against the real Ceph', () => {
  before(async () => {
    if (!testEnv.cephUrl) return;
    gw = await startFullGateway();
    for (const pool of [own, victim]) {
      await cephCli(conf(), ['osd', 'pool', 'create', pool, '8']);
      await cephCli(conf(), ['osd', 'pool', 'application', 'enable', pool, 'rbd']);
    }
    await rbd('create', '--size', '4M', `${own}/aimg`);
    await rbd('create', '--size', '4M', `${victim}/vimg`);
  });
  after(async () => {
    await gw?.close();
  });

  for (const [how, headersOf] of Object.entries(credentials)) {
    test(`${how}: team-b's quota cannot be set through a team-a pool path`, async (t) => {
      if (!need(t, 'ceph')) return;
      const before = await quota(victim);
      const res = await call(g().url, 'PUT', `/api/pool/${own}?flags=;pool_name=${victim}`, { headers: await headersOf(), body: '{"quota_max_objects":2468}' });
      await refusedAndFoundByVictimPool(res, 400, 'ambiguous_request');
      assert.equal(await quota(victim), before, "team-b's quota is unchanged");
    });

    test(`${how}: team-b's pool cannot be renamed into team-a's namespace`, async (t) => {
      if (!need(t, 'ceph')) return;
      const res = await call(g().url, 'PUT', `/api/pool/${own}?flags=;pool_name=${victim}`, {
        headers: await headersOf(),
        body: JSON.stringify({ pool: `team-a-stolen${s}` }),
      });
      await refusedAndFoundByVictimPool(res, 400, 'ambiguous_request');
      const pools = await cephPools();
      assert.ok(pools.includes(victim) && !pools.includes(`team-a-stolen${s}`));
    });

    test(`${how}: team-b's image cannot be deleted through a team-a image path`, async (t) => {
      if (!need(t, 'ceph')) return;
      const res = await call(g().url, 'DELETE', `/api/block/image/${own}%2Faimg?;image_spec=${victim}/vimg`, { headers: await headersOf() });
      await refusedAndFoundByVictimPool(res, 400, 'ambiguous_request');
      assert.deepEqual(await images(victim), ['vimg']);
    });

    test(`${how}: team-b's image cannot be copied out into a team-a pool`, async (t) => {
      if (!need(t, 'ceph')) return;
      const res = await call(g().url, 'POST', `/api/block/image/${own}%2Faimg/copy?x=1;image_spec=${victim}%2Fvimg`, {
        headers: await headersOf(),
        body: JSON.stringify({ dest_pool_name: own, dest_image_name: `stolen${s}` }),
      });
      await refusedAndFoundByVictimPool(res, 400, 'ambiguous_request');
      assert.deepEqual(await images(own), ['aimg']);
    });

    test(`${how}: a second pool hidden behind ; in a create is decided on, not missed`, async (t) => {
      if (!need(t, 'ceph')) return;
      // Before the fix the gateway read one pool named `team-a-c…;pool=team-b-…` (glob team-a-* matched).
      const mine = `team-a-c${s}${how.length}`;
      const res = await call(g().url, 'POST', `/api/pool?pool=${mine};pool=${victim}`, {
        headers: await headersOf(),
        body: JSON.stringify({ pg_num: 8, pool_type: 'replicated' }),
      });
      await refusedAndFoundByVictimPool(res, 403, 'policy_denied');
      assert.equal((await cephPools()).includes(mine), false);
    });
  }
});
