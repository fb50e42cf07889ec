// Two real Ceph clusters behind one gateway: `/api/...` reaches the default cluster, `/clusters/east/api/...`
// the second; per-cluster policy rules, audit records carrying the cluster, and 404 for an unknown cluster.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { queryAudit } from '../../src/audit/query.ts';
import { apiCall } from '../support/api-call.ts';
import { cephCli, ensureTestAccounts, TEST_ACCOUNTS } from '../support/ceph-cli.ts';
import { type FullGateway, startFullGateway } from '../support/full-gateway.ts';
import { need, testEnv } from '../support/requirements.ts';

const suffix = Math.random().toString(36).slice(2, 8);
const MAIN_POOL = `mc-main-${suffix}`;
const EAST_POOL = `mc-east-${suffix}`;

// alice (team-a): pools and reads on main, reads only on east. carol (operators): pools on east only.
const POLICY = `
rules:
  - id: team-a-main
    effect: allow
    subjects: { groups: [team-a] }
    routes: ["Pool.*"]
    clusters: [main]
    ceph_account: operator
  - id: team-a-east-read
    effect: allow
    subjects: { groups: [team-a] }
    methods: [GET]
    routes: ["*"]
    clusters: [east]
    ceph_account: reader
  - id: operators-east
    effect: allow
    subjects: { groups: [operators] }
    routes: ["Pool.*"]
    clusters: [east]
    ceph_account: operator
`;

let gw: FullGateway | null = null;
let policies = '';

const call = (method: string, path: string, token: string, body?: unknown) => apiCall((gw as FullGateway).url, method, path, token, body);

const poolsOf = async (conf: string | undefined) => (await cephCli(conf as string, ['osd', 'pool', 'ls'])).split('\n').filter(Boolean);
const names = (body: unknown): string[] => (body as { pool_name: string }[]).map((p) => p.pool_name);

describe('two clusters behind one gateway', () => {
  before(async () => {
    if (!testEnv.cephUrl || !testEnv.ceph2Url || !testEnv.ceph2Conf) return;
    await ensureTestAccounts(testEnv.ceph2Conf);
    policies = mkdtempSync(join(tmpdir(), 'cg-mc-pol-'));
    writeFileSync(join(policies, 'clusters.yaml'), POLICY);
    gw = await startFullGateway({
      policiesDir: policies,
      config: (base) => {
        const ceph = base.ceph as { clusters: Record<string, unknown>[] };
        const east = {
          name: 'east',
          dashboards: [testEnv.ceph2Url],
          release: 'auto', // detected from east's own /docs/openapi.json
          accounts: TEST_ACCOUNTS.map((a) => ({ name: a.name, username: a.username, password_env: `CG_TEST_PW_${a.name.toUpperCase()}` })),
        };
        return { ...base, ceph: { default_cluster: 'main', clusters: [...ceph.clusters, east] } };
      },
    });
  });
  after(async () => {
    await gw?.close();
    if (policies) rmSync(policies, { recursive: true, force: true });
  });

  test('a pool created under /clusters/east exists only in east, one under /api only in main', async (t) => {
    if (!need(t, 'ceph', 'ceph2')) return;
    const g = gw as FullGateway;
    const carol = await g.token('carol');
    const alice = await g.token('alice');
    const east = await call('POST', '/clusters/east/api/pool', carol, { pool: EAST_POOL, pg_num: 8, pool_type: 'replicated' });
    assert.ok([201, 202].includes(east.status), JSON.stringify(east.body));
    const main = await call('POST', '/api/pool', alice, { pool: MAIN_POOL, pg_num: 8, pool_type: 'replicated' });
    assert.ok([201, 202].includes(main.status), JSON.stringify(main.body));

    const inEast = await poolsOf(testEnv.ceph2Conf);
    const inMain = await poolsOf(testEnv.cephConf);
    assert.ok(inEast.includes(EAST_POOL) && !inEast.includes(MAIN_POOL), inEast.join(','));
    assert.ok(inMain.includes(MAIN_POOL) && !inMain.includes(EAST_POOL), inMain.join(','));

    // Reads go to the right cluster too.
    const eastList = await call('GET', '/clusters/east/api/pool', alice);
    assert.equal(eastList.status, 200);
    assert.ok(names(eastList.body).includes(EAST_POOL) && !names(eastList.body).includes(MAIN_POOL));
    const mainList = await call('GET', '/api/pool', alice);
    assert.equal(mainList.status, 200);
    assert.ok(names(mainList.body).includes(MAIN_POOL) && !names(mainList.body).includes(EAST_POOL));
    assert.deepEqual(names((await call('GET', '/clusters/main/api/pool', alice)).body).sort(), names(mainList.body).sort());
  });

  test('rules limited to a cluster are enforced per cluster', async (t) => {
    if (!need(t, 'ceph', 'ceph2')) return;
    const g = gw as FullGateway;
    const alice = await g.token('alice');
    const carol = await g.token('carol');
    const denied = await call('POST', '/clusters/east/api/pool', alice, { pool: `mc-denied-${suffix}`, pg_num: 8, pool_type: 'replicated' });
    assert.equal(denied.status, 403);
    assert.equal(denied.body.code, 'policy_denied');
    assert.equal((await poolsOf(testEnv.ceph2Conf)).includes(`mc-denied-${suffix}`), false);
    // carol's only rule names east: the default cluster refuses her.
    const carolMain = await call('GET', '/api/pool', carol);
    assert.equal(carolMain.status, 403);
    assert.equal((await call('GET', '/clusters/east/api/pool', carol)).status, 200);
  });

  test('audit records carry the cluster of each request', async (t) => {
    if (!need(t, 'ceph', 'ceph2')) return;
    const db = (gw as FullGateway).gateway.audit.db;
    const east = await queryAudit(db, { pool: EAST_POOL, method: 'POST', limit: 10 });
    assert.equal(east.items.length, 1);
    assert.equal(east.items[0]?.cluster, 'east');
    assert.equal(east.items[0]?.decision?.rule_id, 'operators-east');
    const main = await queryAudit(db, { pool: MAIN_POOL, method: 'POST', limit: 10 });
    assert.equal(main.items[0]?.cluster, 'main');
    const denied = await queryAudit(db, { cluster: 'east', decision: 'deny', limit: 10 });
    assert.ok(denied.items.some((r) => r.pools.includes(`mc-denied-${suffix}`)));
    assert.ok((await queryAudit(db, { cluster: 'east', pool: MAIN_POOL, limit: 10 })).items.length === 0);
  });

  test('an unknown cluster is 404', async (t) => {
    if (!need(t, 'ceph', 'ceph2')) return;
    const alice = await (gw as FullGateway).token('alice');
    const res = await call('GET', '/clusters/west/api/pool', alice);
    assert.equal(res.status, 404);
    assert.equal(res.body.code, 'not_found');
  });
});
