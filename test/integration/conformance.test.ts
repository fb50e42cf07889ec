// Conformance of the gateway with the real dashboard of the release under test (a release suite: run
// against Pacific and against Reef). Every GET of the release's spec whose path parameters can be
// filled in from real objects of the shared cluster (a pool, an RBD image, OSD 0, the mon, the active
// mgr, the host, ...) is sent direct and through the gateway: same status, same JSON shape (keys and
// types, not values). Then pool and RBD image mutations as team A, each checked on Ceph's side with
// the release's own CLI: what the policies allow changes Ceph, what they deny does not.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { loadCatalogue } from '../../src/ceph/catalogue.ts';
import type { CatalogueOperation } from '../../src/core/catalogue.ts';
import { cephCli, cephProgram, TEST_ACCOUNTS } from '../support/ceph-cli.ts';
import { type FullGateway, startFullGateway } from '../support/full-gateway.ts';
import { need, releaseSuite, testEnv } from '../support/requirements.ts';

const release = releaseSuite();
const s = Math.random().toString(36).slice(2, 8);
/** Fixtures made with Ceph's CLI, so the GETs do not depend on the gateway's own mutations. */
const fixturePool = `cg-conf-${s}`;
const fixtureImage = 'img';
const conf = () => testEnv.cephConf as string;
let gw: FullGateway | null = null;
const g = () => gw as FullGateway;

/** What the GETs' path parameters are filled with; read from the cluster in before(). */
interface Objects {
  readonly hostname: string;
  readonly activeMgr: string;
  readonly setting: string;
}
let objects: Objects | null = null;

type Fill = (o: Objects) => string;
/** Path (and query, where the spec requires one) per template; `null`: no such object on a single-host test cluster. */
const FILLS: Record<string, Fill | string> = {
  '/api/block/image/{image_spec}': () => `/api/block/image/${fixturePool}%2F${fixtureImage}`,
  '/api/block/mirroring/pool/{pool_name}': () => `/api/block/mirroring/pool/${fixturePool}`,
  '/api/block/mirroring/pool/{pool_name}/peer': () => `/api/block/mirroring/pool/${fixturePool}/peer`,
  '/api/block/pool/{pool_name}/namespace': () => `/api/block/pool/${fixturePool}/namespace`,
  '/api/pool/{pool_name}': () => `/api/pool/${fixturePool}`,
  '/api/pool/{pool_name}/configuration': () => `/api/pool/${fixturePool}/configuration`,
  '/api/cluster_conf/{name}': () => '/api/cluster_conf/osd_pool_default_size',
  '/api/cluster_conf/filter': () => '/api/cluster_conf/filter?names=osd_pool_default_size,mon_allow_pool_delete',
  '/api/crush_rule/{name}': () => '/api/crush_rule/replicated_rule',
  '/api/erasure_code_profile/{name}': () => '/api/erasure_code_profile/default',
  '/api/host/{hostname}': (o) => `/api/host/${o.hostname}`,
  '/api/host/{hostname}/daemons': (o) => `/api/host/${o.hostname}/daemons`,
  '/api/host/{hostname}/devices': (o) => `/api/host/${o.hostname}/devices`,
  '/api/host/{hostname}/inventory': (o) => `/api/host/${o.hostname}/inventory`,
  '/api/host/{hostname}/smart': (o) => `/api/host/${o.hostname}/smart`,
  '/api/mgr/module/{module_name}': () => '/api/mgr/module/dashboard',
  '/api/mgr/module/{module_name}/options': () => '/api/mgr/module/dashboard/options',
  '/api/osd/{svc_id}': () => '/api/osd/0',
  '/api/osd/{svc_id}/devices': () => '/api/osd/0/devices',
  '/api/osd/{svc_id}/histogram': () => '/api/osd/0/histogram',
  '/api/osd/{svc_id}/smart': () => '/api/osd/0/smart',
  '/api/osd/safe_to_delete': () => '/api/osd/safe_to_delete?svc_ids=0',
  '/api/osd/safe_to_destroy': () => '/api/osd/safe_to_destroy?ids=0',
  '/api/perf_counters/mon/{service_id}': () => '/api/perf_counters/mon/a',
  '/api/perf_counters/mgr/{service_id}': (o) => `/api/perf_counters/mgr/${o.activeMgr}`,
  '/api/perf_counters/osd/{service_id}': () => '/api/perf_counters/osd/0',
  '/api/role/{name}': () => '/api/role/read-only',
  '/api/settings/{name}': (o) => `/api/settings/${o.setting}`,
  '/api/user/{username}': () => `/api/user/${TEST_ACCOUNTS.find((a) => a.name === 'admin')?.username}`,
};

/** Why the remaining parameterised GETs cannot be filled in: the cluster has no such object. */
function unfillable(template: string): string {
  if (/^\/api\/cephfs\//.test(template)) return 'no CephFS (no MDS)';
  if (/^\/api\/rgw\/|\/rgw\//.test(template)) return 'no RGW daemon';
  if (/^\/api\/iscsi\//.test(template)) return 'no iSCSI gateway';
  if (/^\/api\/nfs-ganesha\//.test(template)) return 'no NFS cluster';
  if (/^\/api\/service\//.test(template)) return 'no orchestrator (no services)';
  if (/\/perf_counters\/(mds|rbd-mirror|tcmu-runner)\//.test(template)) return 'no such daemon';
  if (/\/mirroring\/pool\/\{pool_name\}\/peer\/\{peer_uuid\}/.test(template)) return 'no mirroring peer';
  if (/\/grafana\/validation\//.test(template)) return 'no Grafana';
  return 'no fill defined';
}

/** The JSON shape of a value: object keys and value types, arrays as the set of their elements' shapes. */
type Shape = string | { readonly [k: string]: Shape } | { readonly '[]': readonly string[] };
function shapeOf(v: unknown): Shape {
  if (v === null) return 'null';
  if (Array.isArray(v)) return { '[]': [...new Set(v.map((x) => JSON.stringify(shapeOf(x))))].sort() };
  if (typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return Object.fromEntries(
      Object.keys(o)
        .sort()
        .map((k) => [k, shapeOf(o[k])]),
    );
  }
  return typeof v;
}

interface Answer {
  readonly status: number;
  readonly json: unknown;
  readonly text: string;
}

async function get(url: string, headers: Record<string, string>): Promise<Answer> {
  const res = await fetch(url, { headers, signal: AbortSignal.timeout(60_000) });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, json, text };
}

let directToken = '';
async function loginDirect(): Promise<string> {
  const admin = TEST_ACCOUNTS.find((a) => a.name === 'admin');
  const res = await fetch(`${testEnv.cephUrl}/api/auth`, {
    method: 'POST',
    headers: { accept: 'application/vnd.ceph.api.v1.0+json', 'content-type': 'application/json' },
    body: JSON.stringify({ username: admin?.username, password: admin?.password }),
  });
  assert.equal(res.status, 201, await res.clone().text());
  return ((await res.json()) as { token: string }).token;
}

/** The same GET, direct (the endpoint's own version, the account breakglass uses) and through the gateway as erin. */
async function both(op: CatalogueOperation, path: string): Promise<{ direct: Answer; gateway: Answer }> {
  const erin = await g().token('erin');
  const [direct, gateway] = await Promise.all([
    get(`${testEnv.cephUrl}${path}`, { accept: `application/vnd.ceph.api.v${op.version}+json`, authorization: `Bearer ${directToken}` }),
    get(`${g().url}${path}`, { accept: 'application/json', authorization: `Bearer ${erin}` }),
  ]);
  return { direct, gateway };
}

/** Null when both answers agree in status and shape, else what differs. */
function difference(direct: Answer, gateway: Answer): string | null {
  if (direct.status !== gateway.status) return `status ${direct.status} direct, ${gateway.status} through the gateway (${gateway.text.slice(0, 200)})`;
  if ((direct.json === undefined) !== (gateway.json === undefined))
    return `JSON direct: ${direct.json !== undefined}, through the gateway: ${gateway.json !== undefined}`;
  // Every error the gateway answers carries the gateway's request id, and Ceph's own as
  // ceph_request_id when Ceph's had one (gateway-e2e.test.ts); Ceph's dashboard exceptions
  // (`{detail, code, component}`) have none. By design, so both ids are left out of the comparison.
  const body = (a: Answer) => {
    if (direct.status < 400 || a.json === null || typeof a.json !== 'object' || Array.isArray(a.json)) return a.json;
    const { request_id: _, ceph_request_id: __, ...rest } = a.json as Record<string, unknown>;
    return rest;
  };
  if (direct.status >= 400 && typeof (gateway.json as { request_id?: unknown } | null)?.request_id !== 'string')
    return `the gateway's error answer has no request_id: ${gateway.text.slice(0, 200)}`;
  const a = JSON.stringify(shapeOf(body(direct)));
  const b = JSON.stringify(shapeOf(body(gateway)));
  return a === b ? null : `JSON shape differs:\n  direct:  ${a.slice(0, 600)}\n  gateway: ${b.slice(0, 600)}`;
}

const eventually = async (what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`not within ${timeoutMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 500));
  }
};

// One gateway for the file (the example policies: erin is break-glass, alice is team A).
before(async () => {
  if (testEnv.cephUrl) gw = await startFullGateway();
});
after(async () => {
  await gw?.close();
});

describe(`conformance with Ceph ${release}: every fillable GET of the spec, direct and through the gateway`, () => {
  before(async () => {
    if (!testEnv.cephUrl) return;
    await cephCli(conf(), ['osd', 'pool', 'create', fixturePool, '8']);
    await cephCli(conf(), ['osd', 'pool', 'application', 'enable', fixturePool, 'rbd']);
    await cephProgram(conf(), 'rbd', ['create', '--size', '4M', `${fixturePool}/${fixtureImage}`]);
    directToken = await loginDirect();
    const auth = { authorization: `Bearer ${directToken}` };
    const hostVersion = loadCatalogue(release)
      .byTemplate('/api/host')
      .find((o) => o.method === 'GET')?.version;
    const hosts = await get(`${testEnv.cephUrl}/api/host`, { ...auth, accept: `application/vnd.ceph.api.v${hostVersion}+json` });
    const settings = await get(`${testEnv.cephUrl}/api/settings`, { ...auth, accept: 'application/vnd.ceph.api.v1.0+json' });
    const mgr = JSON.parse(await cephCli(conf(), ['mgr', 'dump', '-f', 'json'])) as { active_name: string };
    objects = {
      hostname: String((hosts.json as { hostname: string }[])[0]?.hostname),
      activeMgr: mgr.active_name,
      setting: String((settings.json as { name: string }[])[0]?.name),
    };
  });
  after(async () => {
    await cephCli(conf(), ['osd', 'pool', 'rm', fixturePool, fixturePool, '--yes-i-really-really-mean-it']).catch(() => undefined);
  });

  test('same status and JSON shape', async (t) => {
    if (!need(t, 'ceph')) return;
    const gets = loadCatalogue(release).operations.filter((o) => o.method === 'GET' && !o.template.startsWith('/ui-api'));
    const notServed = gets.filter((o) => !o.template.startsWith('/api/'));
    const skipped = new Map<string, string[]>();
    const byStatus = new Map<number, string[]>();
    const retried: string[] = [];
    const differences: string[] = [];
    for (const op of gets) {
      if (!op.template.startsWith('/api/')) continue;
      const fill = FILLS[op.template];
      if (op.pathParams.length > 0 && fill === undefined) {
        const why = unfillable(op.template);
        skipped.set(why, [...(skipped.get(why) ?? []), op.template]);
        continue;
      }
      const path = typeof fill === 'function' ? fill(objects as Objects) : (fill ?? op.template);
      // A difference must hold on a second and third try: between two calls a value may change
      // (PG states as keys while another suite creates pools, a task finishing), a shape must not.
      let diff: string | null = null;
      let status = 0;
      for (let attempt = 0; attempt < 3; attempt++) {
        const { direct, gateway } = await both(op, path);
        diff = difference(direct, gateway);
        status = direct.status;
        if (diff === null) break;
        retried.push(`${path} (${diff.split('\n')[0]})`);
      }
      byStatus.set(status, [...(byStatus.get(status) ?? []), path]);
      if (diff !== null) differences.push(`GET ${path}: ${diff}`);
    }
    const compared = [...byStatus.values()].flat().length;
    for (const [status, paths] of [...byStatus].sort(([a], [b]) => a - b))
      t.diagnostic(`${status}, direct and through the gateway (${paths.length}): ${status === 200 ? `${paths.length} GETs` : paths.join(' ')}`);
    if (retried.length > 0) t.diagnostic(`differed once, agreed on a later try (a value changed between the calls): ${retried.join('; ')}`);
    t.diagnostic(`not served by the gateway (it proxies /api, /ui-api and /clusters/<name>/ only): ${notServed.map((o) => o.template).join(' ')}`);
    for (const [why, templates] of skipped) t.diagnostic(`not fillable, ${why}: ${templates.join(' ')}`);
    const ok = byStatus.get(200)?.length ?? 0;
    t.diagnostic(`${release}: ${compared} of ${gets.length} GETs compared, ${ok} answered 200, ${differences.length} differ`);
    assert.deepEqual(differences, [], differences.join('\n'));
    // The comparison is only worth something if most of it is real data.
    assert.ok(ok >= 40, `only ${ok} GETs answered 200`);
  });
});

describe(`pool and RBD image mutations on Ceph ${release}: the policy decides, Ceph shows it`, () => {
  const own = `team-a-conf-${s}`;
  const foreign = `team-b-conf-${s}`;
  const pools = async () => (await cephCli(conf(), ['osd', 'pool', 'ls'])).split('\n').filter(Boolean);
  const images = async (pool: string) => (await cephProgram(conf(), 'rbd', ['ls', pool])).split('\n').filter(Boolean);
  const snaps = async (spec: string) =>
    (JSON.parse(await cephProgram(conf(), 'rbd', ['snap', 'ls', spec, '--format', 'json'])) as { name: string }[]).map((x) => x.name);
  const quota = async (pool: string) =>
    (JSON.parse(await cephCli(conf(), ['osd', 'pool', 'get-quota', pool, '-f', 'json'])) as { quota_max_objects: number }).quota_max_objects;
  const imageSize = async (spec: string) => (JSON.parse(await cephProgram(conf(), 'rbd', ['info', spec, '--format', 'json'])) as { size: number }).size;

  async function alice(method: string, path: string, body?: unknown): Promise<{ status: number; code?: string; text: string }> {
    const res = await fetch(`${g().url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${await g().token('alice')}`,
        accept: 'application/json',
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    let code: string | undefined;
    try {
      code = (JSON.parse(text) as { code?: string }).code;
    } catch {
      /* empty body (204) */
    }
    return { status: res.status, text, ...(code === undefined ? {} : { code }) };
  }
  const allowed = (r: { status: number; text: string }, what: string) => assert.ok([200, 201, 202, 204].includes(r.status), `${what}: ${r.status} ${r.text}`);
  const denied = (r: { status: number; code?: string; text: string }, what: string) => {
    assert.equal(r.status, 403, `${what}: ${r.text}`);
    assert.equal(r.code, 'policy_denied');
  };

  before(async () => {
    if (!testEnv.cephUrl) return;
    // The other team's pool and image exist, so a request that reached them would visibly change them.
    await cephCli(conf(), ['osd', 'pool', 'create', foreign, '8']);
    await cephCli(conf(), ['osd', 'pool', 'application', 'enable', foreign, 'rbd']);
    await cephProgram(conf(), 'rbd', ['create', '--size', '4M', `${foreign}/victim`]);
  });
  after(async () => {
    for (const p of [own, foreign]) await cephCli(conf(), ['osd', 'pool', 'rm', p, p, '--yes-i-really-really-mean-it']).catch(() => undefined);
  });

  test('pools: create, set and delete its own; refused the other team’s', async (t) => {
    if (!need(t, 'ceph')) return;
    allowed(await alice('POST', '/api/pool', { pool: own, pg_num: 8, pool_type: 'replicated', application_metadata: ['rbd'] }), 'create own pool');
    await eventually(`pool ${own} exists`, async () => (await pools()).includes(own));
    denied(await alice('POST', '/api/pool', { pool: `team-b-new-${s}`, pg_num: 8, pool_type: 'replicated' }), "create the other team's pool");
    assert.equal((await pools()).includes(`team-b-new-${s}`), false);

    allowed(await alice('PUT', `/api/pool/${own}`, { quota_max_objects: 1000 }), 'set own pool quota');
    await eventually(`quota of ${own} is 1000`, async () => (await quota(own)) === 1000);
    denied(await alice('PUT', `/api/pool/${foreign}`, { quota_max_objects: 1000 }), "set the other team's quota");
    assert.equal(await quota(foreign), 0);
  });

  test('RBD images: create, resize, snapshot, copy and delete in its own pool; refused in the other team’s', async (t) => {
    if (!need(t, 'ceph')) return;
    await eventually(`pool ${own} exists`, async () => (await pools()).includes(own));
    allowed(await alice('POST', '/api/block/image', { pool_name: own, name: 'img1', size: 4 << 20 }), 'create image in own pool');
    await eventually(`image ${own}/img1 exists`, async () => (await images(own)).includes('img1'));
    denied(await alice('POST', '/api/block/image', { pool_name: foreign, name: 'img1', size: 4 << 20 }), "create image in the other team's pool");
    denied(await alice('POST', '/api/block/image', { pool_name: own, name: 'img2', data_pool: foreign, size: 4 << 20 }), "data_pool of the other team's");
    assert.deepEqual(await images(foreign), ['victim']);
    assert.equal((await images(own)).includes('img2'), false);

    allowed(await alice('PUT', `/api/block/image/${own}%2Fimg1`, { size: 8 << 20 }), 'resize own image');
    await eventually('own image resized to 8 MiB', async () => (await imageSize(`${own}/img1`)) === 8 << 20);
    denied(await alice('PUT', `/api/block/image/${foreign}%2Fvictim`, { size: 8 << 20 }), "resize the other team's image");
    assert.equal(await imageSize(`${foreign}/victim`), 4 << 20);

    allowed(await alice('POST', `/api/block/image/${own}%2Fimg1/snap`, { snapshot_name: 's1', mirrorImageSnapshot: false }), 'snapshot own image');
    await eventually('own snapshot exists', async () => (await snaps(`${own}/img1`)).includes('s1'));
    denied(
      await alice('POST', `/api/block/image/${foreign}%2Fvictim/snap`, { snapshot_name: 's1', mirrorImageSnapshot: false }),
      "snapshot the other team's image",
    );
    assert.deepEqual(await snaps(`${foreign}/victim`), []);

    denied(
      await alice('POST', `/api/block/image/${own}%2Fimg1/copy`, { dest_pool_name: foreign, dest_namespace: null, dest_image_name: 'stolen' }),
      "copy into the other team's pool",
    );
    allowed(
      await alice('POST', `/api/block/image/${own}%2Fimg1/copy`, { dest_pool_name: own, dest_namespace: null, dest_image_name: 'img1-copy' }),
      'copy within own pool',
    );
    await eventually('copy in own pool exists', async () => (await images(own)).includes('img1-copy'));
    assert.deepEqual(await images(foreign), ['victim']);

    denied(await alice('DELETE', `/api/block/image/${foreign}%2Fvictim`), "delete the other team's image");
    allowed(await alice('DELETE', `/api/block/image/${own}%2Fimg1-copy`), 'delete own image');
    await eventually('own copy deleted', async () => !(await images(own)).includes('img1-copy'));
    assert.deepEqual(await images(foreign), ['victim']);
  });

  test('pools: delete its own, refused deleting the other team’s', async (t) => {
    if (!need(t, 'ceph')) return;
    denied(await alice('DELETE', `/api/pool/${foreign}`), "delete the other team's pool");
    assert.ok((await pools()).includes(foreign));
    // The pool still holds img1 and its snapshot: the dashboard deletes it regardless (the mon does not look inside).
    allowed(await alice('DELETE', `/api/pool/${own}`), 'delete own pool');
    await eventually(`pool ${own} deleted`, async () => !(await pools()).includes(own));
  });
});
