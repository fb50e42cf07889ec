// The /ui-api catalogue generated from the dashboard's own controllers (scripts/catalogue/ui-api.ts):
// it is what the installed sources produce, names the scope and permission Ceph checks, and is unambiguous.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import type { DashboardRoute } from '../../scripts/catalogue/dashboard-routes.ts';
import { INSTALLED_DASHBOARD, listDashboardRoutes } from '../../scripts/catalogue/dashboard-routes.ts';
import { isUiRoute, operationFromRoute, operationId, operationsFromRoutes } from '../../scripts/catalogue/ui-operations.ts';
import { buildCatalogue, loadCatalogue } from '../../src/ceph/catalogue.ts';
import type { CatalogueOperation } from '../../src/core/catalogue.ts';
import type { HttpMethod } from '../../src/core/http.ts';
import { need } from '../support/requirements.ts';

const committed = JSON.parse(readFileSync(new URL('../../src/ceph/catalogue/ui-api-pacific.json', import.meta.url), 'utf8')) as {
  release: string;
  operations: CatalogueOperation[];
};
const ops = committed.operations;
const find = (method: HttpMethod, template: string) => ops.find((o) => o.method === method && o.template === template);

describe('ui-api catalogue (pacific)', () => {
  test('the committed file is what the installed dashboard sources produce (run: tsx scripts/catalogue/ui-api.ts pacific)', (t) => {
    // need('cherrypy') checks for the installed dashboard sources and Debian's python3 with cherrypy and routes.
    if (!need(t, 'cherrypy')) return;
    const listing = listDashboardRoutes(INSTALLED_DASHBOARD);
    assert.deepEqual(operationsFromRoutes(listing.routes, listing.default_version, isUiRoute), ops);
  });

  test('only /ui-api routes, each template unique per method and each id unique', () => {
    assert.equal(committed.release, 'pacific');
    assert.ok(ops.length >= 60, `${ops.length} operations`);
    for (const op of ops) assert.ok(op.template.startsWith('/ui-api/'), op.template);
    assert.equal(new Set(ops.map((o) => `${o.method} ${o.template}`)).size, ops.length);
    assert.equal(new Set(ops.map((o) => o.id)).size, ops.length);
    // buildCatalogue refuses two operations that match the same paths; every one matches its own template.
    const cat = buildCatalogue('pacific', ops);
    for (const op of ops) {
      const path = op.segments.map((s) => ('literal' in s ? s.literal : 'x1'));
      assert.equal(cat.match(op.method, path)?.operation.template, op.template, `${op.method} ${op.template}`);
    }
  });

  test('no id is also an id of the OpenAPI catalogue (policies select operations by id)', () => {
    const openapi = new Set(
      loadCatalogue('pacific')
        .operations.filter((o) => !o.template.startsWith('/ui-api'))
        .map((o) => o.id),
    );
    assert.deepEqual(
      ops.filter((o) => openapi.has(o.id)).map((o) => o.id),
      [],
    );
  });

  // method, template, scope, permission, unauthenticated: as the controllers declare them (read from the
  // installed 16.2.15 sources; POST .../scrub checks `update` and .../destroy `create`, whatever the method suggests).
  const known: [HttpMethod, string, string | null, string | null, boolean][] = [
    ['GET', '/ui-api/block/rbd/status', null, 'read', false],
    ['GET', '/ui-api/block/mirroring/status', 'rbd-mirroring', 'read', false],
    ['GET', '/ui-api/host/inventory', 'hosts', 'read', false],
    ['GET', '/ui-api/host/labels', 'hosts', 'read', false],
    ['GET', '/ui-api/osd', 'osd', 'read', false],
    ['POST', '/ui-api/osd/{svc_id}/scrub', 'osd', 'update', false],
    ['POST', '/ui-api/osd/{svc_id}/destroy', 'osd', 'create', false],
    ['DELETE', '/ui-api/pool/{pool_name}', 'pool', 'delete', false],
    ['GET', '/ui-api/motd', null, 'read', false],
    ['GET', '/ui-api/standard_settings', null, 'read', false],
    ['GET', '/ui-api/orchestrator/status', null, 'read', false],
    ['GET', '/ui-api/scope', 'user', 'read', false],
    ['GET', '/ui-api/login/custom_banner', null, null, true],
    ['GET', '/ui-api/langs', null, null, true],
    ['POST', '/ui-api/logging/js-error', null, null, true],
  ];
  for (const [method, template, scope, permission, unauthenticated] of known) {
    test(`${method} ${template}: scope ${scope}, permission ${permission}${unauthenticated ? ', no token' : ''}`, () => {
      const op = find(method, template);
      assert.ok(op, `${method} ${template} missing`);
      assert.deepEqual([op.scope, op.permission, op.unauthenticated], [scope, permission, unauthenticated]);
    });
  }

  test('the UI copies of /api routes carry their pool fields and versions (a per-pool rule must see them)', () => {
    assert.deepEqual(find('POST', '/ui-api/pool')?.poolFields, ['pool']);
    assert.deepEqual(find('DELETE', '/ui-api/pool/{pool_name}')?.pathParams, ['pool_name']);
    assert.equal(find('GET', '/ui-api/osd/settings')?.version, '0.1');
    assert.deepEqual(find('GET', '/ui-api/nfs-ganesha/lsdir/{fs_name}')?.queryParams, ['root_dir', 'depth']);
  });
});

describe('ui-api operation derivation', () => {
  const route = (over: Partial<DashboardRoute>): DashboardRoute => ({
    method: 'GET',
    any_method: false,
    template: '/ui-api/x/{id}',
    controller: 'XUi',
    module: 'controllers.x',
    handler: 'get',
    handler_shared: false,
    api: false,
    secure: true,
    scope: 'pool',
    permissions: ['read'],
    check: 'scope',
    allow_empty_body: false,
    path_params: ['id'],
    query_params: [],
    body_params: [],
    var_kwargs: false,
    version: '1.0',
    json_response: true,
    xml: false,
    proxy: false,
    ...over,
  });

  test('ids: controller class and handler; a controller that is its own endpoint is named by its last segment', () => {
    assert.equal(operationId(route({})), 'XUi.get');
    assert.equal(operationId(route({ handler: '__call__', template: '/ui-api/logging/js-error' })), 'XUi.js_error');
    assert.equal(
      operationId(route({ controller: 'rgwaccounts{account_id}roles_CRUDClassMetadata', handler: '_list' })),
      'rgwaccountsaccount_idroles_CRUDClassMetadata._list',
    );
  });

  test('insecure routes check nothing; a scope without a permission is refused by Ceph for everyone', () => {
    const open = operationFromRoute(route({ secure: false, check: 'none' }), '1.0');
    assert.deepEqual([open.scope, open.permission, open.unauthenticated], [null, null, true]);
    assert.equal(operationFromRoute(route({ permissions: [], check: 'forbidden' }), '1.0').permission, null);
  });

  test('pool and secret fields come from body and query arguments; a missing version is the default', () => {
    const op = operationFromRoute(
      route({ method: 'POST', template: '/ui-api/x', path_params: [], body_params: ['pool', 'password'], query_params: ['pool_name'], version: null }),
      '1.0',
    );
    assert.deepEqual([op.poolFields, op.secretFields, op.version], [['pool', 'pool_name'], ['password'], '1.0']);
  });

  test('refused: a Ceph path parameter missing from the template, several permissions, a route taking every method', () => {
    assert.throws(() => operationFromRoute(route({ path_params: ['id', 'other'] }), '1.0'), /path_params other/);
    // The other way round is Ceph's own doing: the router passes an unnamed path parameter as a keyword.
    assert.deepEqual(operationFromRoute(route({ path_params: [] }), '1.0').pathParams, ['id']);
    assert.throws(() => operationFromRoute(route({ permissions: ['read', 'update'] }), '1.0'), /several permissions/);
    assert.throws(() => operationFromRoute(route({ any_method: true }), '1.0'), /every method/);
    assert.throws(() => operationsFromRoutes([route({}), route({ handler: 'other' })], '1.0', () => true), /duplicate route/);
  });
});
