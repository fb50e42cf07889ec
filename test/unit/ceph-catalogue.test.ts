// Route catalogue: generation facts (ids, versions, pool/secret fields) and raw-path matching rules.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { parse } from 'yaml';
import { catalogueFromSpec, schemaPaths } from '../../scripts/catalogue/openapi-operations.ts';
import { loadCatalogue } from '../../src/ceph/catalogue.ts';
import { createRouteMatcher } from '../../src/ceph/route-matcher.ts';
import type { CephRelease } from '../../src/core/catalogue.ts';
import { GatewayError } from '../../src/core/errors.ts';
import type { HttpMethod, RequestTarget } from '../../src/core/http.ts';

const releases: CephRelease[] = ['pacific', 'reef', 'tentacle'];
const split = (p: string) => p.split('/').slice(1);

describe('catalogue generation', () => {
  test('committed catalogue JSON is what the generator makes of the committed specs (run npm run catalogue)', () => {
    for (const r of releases) {
      const spec: unknown = parse(readFileSync(new URL(`../../scripts/catalogue/specs/openapi-${r}.yaml`, import.meta.url), 'utf8'));
      // The /ui-api routes come from the dashboard's controllers (test/unit/ui-catalogue.test.ts).
      assert.deepEqual(
        catalogueFromSpec(spec),
        loadCatalogue(r).operations.filter((o) => !o.template.startsWith('/ui-api/')),
        r,
      );
    }
  });

  test('ids are unique per release and every operation matches its own template', () => {
    for (const r of releases) {
      const cat = loadCatalogue(r);
      assert.ok(cat.operations.length > 200, r);
      const ids = new Set(cat.operations.map((o) => o.id));
      assert.equal(ids.size, cat.operations.length, `${r}: duplicate ids`);
      for (const op of cat.operations) {
        const path = op.segments.map((s) => ('literal' in s ? s.literal : 'x1')).join('/');
        assert.equal(cat.match(op.method, path.split('/'))?.operation.template, op.template, `${r} ${op.method} ${op.template}`);
      }
    }
  });

  // docs/ceph-facts.md versioning table.
  const versions: [CephRelease, HttpMethod, string, string][] = [
    ['pacific', 'GET', '/api/block/image', '2.0'],
    ['reef', 'GET', '/api/block/image', '2.0'],
    ['pacific', 'GET', '/api/host', '1.1'],
    ['reef', 'GET', '/api/host', '1.3'],
    ['tentacle', 'GET', '/api/host/{hostname}', '1.2'],
    ['pacific', 'GET', '/api/crush_rule', '1.0'],
    ['reef', 'GET', '/api/crush_rule', '2.0'],
    ['reef', 'GET', '/api/service', '2.0'],
    ['tentacle', 'GET', '/api/osd', '1.1'],
    ['pacific', 'GET', '/api/rgw/bucket', '1.1'],
    ['reef', 'PUT', '/api/cluster', '0.1'],
    ['reef', 'POST', '/api/nfs-ganesha/export', '2.0'],
    ['reef', 'POST', '/api/pool', '1.0'],
  ];
  for (const [r, m, t, v] of versions) {
    test(`${r} ${m} ${t} is version ${v}`, () => {
      const op = loadCatalogue(r)
        .byTemplate(t)
        .find((o) => o.method === m);
      assert.equal(op?.version, v);
    });
  }

  test('operation names, scopes and permissions', () => {
    const cat = loadCatalogue('reef');
    const pick = (id: string) => cat.byId(id)[0];
    assert.deepEqual([pick('Pool.create')?.method, pick('Pool.create')?.template], ['POST', '/api/pool']);
    assert.equal(pick('Rbd.copy')?.template, '/api/block/image/{image_spec}/copy');
    assert.equal(pick('Pool.create')?.scope, 'pool');
    assert.equal(pick('Pool.create')?.permission, 'create');
    assert.equal(pick('Rbd.delete')?.scope, 'rbd-image');
    assert.equal(pick('Rbd.delete')?.permission, 'delete');
    assert.equal(pick('RbdMirroringPoolPeer.create')?.scope, 'rbd-mirroring');
    assert.equal(pick('Host.list')?.scope, 'hosts');
    assert.equal(pick('Summary.list')?.scope, null);
  });

  // Every body field naming a pool must reach per-pool policy rules (docs/ceph-facts.md: creates name the pool in the body).
  const poolFields: [string, string[]][] = [
    ['Pool.create', ['pool']],
    ['Rbd.create', ['data_pool', 'pool_name']],
    ['Rbd.copy', ['data_pool', 'dest_pool_name']],
    ['RbdSnapshot.clone', ['child_pool_name', 'data_pool']],
    ['Cephfs.create', []],
  ];
  for (const [id, fields] of poolFields) {
    test(`pool fields of ${id}`, () => {
      const op = loadCatalogue('reef').byId(id)[0];
      assert.ok(op, id);
      for (const f of fields) assert.ok(op.poolFields.includes(f), `${id} lacks ${f}: ${op.poolFields.join(',')}`);
    });
  }

  test('secret fields: login password, RGW keys, mirroring peer key, iSCSI mutual password', () => {
    const cat = loadCatalogue('reef');
    assert.ok(cat.byId('Auth.create')[0]?.secretFields.includes('password'));
    assert.ok(cat.byId('RgwUser.key_create')[0]?.secretFields.includes('secret_key'));
    assert.ok(cat.byId('RgwUser.key_create')[0]?.secretFields.includes('access_key'));
    assert.ok(cat.byId('RbdMirroringPoolPeer.create')[0]?.secretFields.includes('key'));
    assert.ok(cat.byId('User.create')[0]?.secretFields.includes('password'));
  });

  test('unauthenticated operations', () => {
    const cat = loadCatalogue('pacific');
    for (const [m, p] of [
      ['POST', '/api/auth'],
      ['POST', '/api/auth/check'],
      ['GET', '/docs/openapi.json'],
      ['POST', '/api/prometheus_receiver'],
      ['POST', '/ui-api/logging/js-error'],
      ['GET', '/ui-api/langs'],
      ['GET', '/ui-api/login/custom_banner'],
    ] as const) {
      assert.equal(cat.match(m, split(p))?.operation.unauthenticated, true, p);
    }
    assert.equal(cat.match('GET', split('/api/pool'))?.operation.unauthenticated, false);
  });

  test('schemaPaths walks nested objects and arrays', () => {
    const s = { properties: { a: { type: 'object', properties: { pool: {} } }, b: { type: 'array', items: { properties: { pool_name: {} } } } } };
    assert.deepEqual(schemaPaths(s), ['a', 'a.pool', 'b', 'b[].pool_name']);
  });

  test('a spec with an undeclared path parameter is refused', () => {
    const spec = { paths: { '/api/x': { get: { tags: ['X'], parameters: [{ in: 'path', name: 'y' }], responses: {} } } } };
    assert.throws(() => catalogueFromSpec(spec));
  });
});

describe('catalogue matching', () => {
  const cat = loadCatalogue('reef');
  const cases: [string, HttpMethod, string, string | null, Record<string, string>?][] = [
    ['literal', 'GET', '/api/pool', '/api/pool'],
    ['parameter', 'GET', '/api/pool/rbd', '/api/pool/{pool_name}', { pool_name: 'rbd' }],
    ['literal preferred over parameter', 'GET', '/api/block/image/default_features', '/api/block/image/default_features'],
    ['encoded slash in image_spec is one parameter', 'GET', '/api/block/image/rbd%2Fimg1', '/api/block/image/{image_spec}', { image_spec: 'rbd/img1' }],
    ['image spec with namespace', 'POST', '/api/block/image/rbd%2Fns%2Fimg1/copy', '/api/block/image/{image_spec}/copy', { image_spec: 'rbd/ns/img1' }],
    ['lower-case %2f too', 'GET', '/api/block/image/rbd%2fimg1', '/api/block/image/{image_spec}', { image_spec: 'rbd/img1' }],
    // Ceph unquotes parameters a second time (_base_controller.py): a %XX left after one decode is refused.
    ['double encoding is refused (Ceph decodes twice)', 'GET', '/api/block/image/rbd%252Fimg1', null],
    ['double-encoded pool name is refused (Ceph decodes twice)', 'GET', '/api/pool/a%2525', null],
    ['a lone percent sign is not double encoding', 'GET', '/api/pool/a%25', '/api/pool/{pool_name}', { pool_name: 'a%' }],
    ['utf-8 parameter', 'GET', '/api/pool/p%C3%A9', '/api/pool/{pool_name}', { pool_name: 'pé' }],
    ['encoded slash outside spec params', 'GET', '/api/pool/a%2Fb', null],
    ['dot-dot parameter', 'GET', '/api/pool/%2e%2e', null],
    ['dot-dot parameter, upper case', 'GET', '/api/pool/%2E%2E', null],
    ['dot-dot inside image spec', 'GET', '/api/block/image/rbd%2F..', null],
    ['empty component in image spec', 'GET', '/api/block/image/rbd%2F%2Fimg', null],
    ['raw dot-dot', 'GET', '/api/pool/..', null],
    ['empty segment (//)', 'GET', '/api//pool', null],
    ['empty parameter (trailing slash)', 'GET', '/api/pool/', null],
    ['case-folded literal', 'GET', '/API/pool', null],
    ['case-folded literal 2', 'GET', '/api/Pool', null],
    ['percent-encoded literal', 'GET', '/api/p%6Fol', null],
    ['NUL byte', 'GET', '/api/pool/a%00b', null],
    ['control byte', 'GET', '/api/pool/a%0Ab', null],
    ['invalid utf-8', 'GET', '/api/pool/%C3%28', null],
    ['overlong utf-8', 'GET', '/api/pool/%C0%AF', null],
    ['bad escape', 'GET', '/api/pool/a%zz', null],
    ['truncated escape', 'GET', '/api/pool/a%2', null],
    ['wrong method', 'PATCH', '/api/pool', null],
    ['too long', 'GET', '/api/pool/rbd/extra/x', null],
    ['unknown', 'GET', '/api/nope', null],
  ];
  for (const [name, method, path, template, params] of cases) {
    test(name, () => {
      const m = cat.match(method, split(path));
      assert.equal(m?.operation.template ?? null, template);
      if (params !== undefined) assert.deepEqual(m?.params, params);
    });
  }
});

describe('route matcher', () => {
  const target = (rawPath: string, cluster: string | null = null): RequestTarget => ({
    raw: rawPath,
    rawPath,
    segments: split(rawPath),
    rawQuery: '',
    query: {},
    cluster,
  });
  const matcher = createRouteMatcher({
    catalogues: new Map([
      ['main', loadCatalogue('reef')],
      ['old', loadCatalogue('pacific')],
    ]),
    defaultCluster: 'main',
    allowUnknown: new Map([['old', true]]),
  });
  const code = (fn: () => unknown) => {
    try {
      fn();
    } catch (e) {
      return e instanceof GatewayError ? `${e.status} ${e.code}` : 'other';
    }
    return 'none';
  };

  test('default and named clusters', () => {
    assert.deepEqual(matcher('GET', target('/api/pool/rbd')), {
      cluster: 'main',
      operation: loadCatalogue('reef').byId('Pool.get')[0],
      template: '/api/pool/{pool_name}',
      params: { pool_name: 'rbd' },
    });
    assert.equal(matcher('GET', target('/api/pool', 'old')).cluster, 'old');
  });
  test('unknown route refused', () =>
    assert.equal(
      code(() => matcher('GET', target('/api/nope'))),
      '404 unknown_route',
    ));
  test('unknown cluster', () =>
    assert.equal(
      code(() => matcher('GET', target('/api/pool', 'zzz'))),
      '404 not_found',
    ));
  test('allowed unknown route passes with the raw path as template', () => {
    const m = matcher('GET', target('/api/nope', 'old'));
    assert.deepEqual([m.operation, m.template], [null, '/api/nope']);
  });
  test('malformed path is 400 even where unknown routes are allowed', () => {
    assert.equal(
      code(() => matcher('GET', target('/api/x%00', 'old'))),
      '400 invalid_path',
    );
    assert.equal(
      code(() => matcher('GET', target('/api/%2e%2e/pool', 'old'))),
      '400 invalid_path',
    );
    assert.equal(
      code(() => matcher('GET', target('/api/pool/%C3%28'))),
      '400 invalid_path',
    );
  });
});
