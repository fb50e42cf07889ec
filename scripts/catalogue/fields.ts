// The explicit knowledge the generator adds to the OpenAPI specs: which body fields name a pool or hold a
// secret, which tag maps to which Ceph RBAC scope, and the unauthenticated paths the specs do not list.

import type { CephPermission } from '../../src/core/catalogue.ts';
import type { HttpMethod } from '../../src/core/http.ts';

/**
 * Body property names whose value names a pool (docs/ceph-facts.md "Paths that need care": creates name the
 * resource in the body). Matched at any depth of the requestBody schema. `pool_spec` is not in the
 * current specs but names `pool[/namespace]` where Ceph uses it; kept so a future spec is covered.
 */
export const POOL_FIELD_NAMES: ReadonlySet<string> = new Set([
  'pool',
  'pool_name',
  'pool_spec',
  'data_pool',
  'dest_pool_name',
  'child_pool_name',
  'rbd_pool',
  'rbd_data_pool',
  'metadata_pool',
  'index_pool',
  'data_extra_pool',
]);

/**
 * Body property names that carry secrets (redacted in audit). `key` is the RBD mirroring peer's cephx
 * key; it is redacted wherever it appears (over-redaction is the safe mistake). `ssl_certificate` may
 * hold a private key (orchestrator service specs concatenate them).
 */
export const SECRET_FIELD_NAMES: ReadonlySet<string> = new Set([
  'password',
  'old_password',
  'new_password',
  'mutual_password',
  'secret_key',
  'access_key',
  'key',
  'token',
  'realm_token',
  'cluster_token',
  'api_key',
  'client_key',
  'dhchap_key',
  'dhchap_controller_key',
  'psk',
  'mfa_token_pin',
  'ssl_certificate',
]);

/**
 * Ceph RBAC scope per spec tag. The specs carry only `security: [jwt: []]` and no scope, so this is
 * inferred from the tag, following each controller's `@APIRouter(path, Scope.X)` in the dashboard
 * sources. null: the controller checks no scope (any logged-in user).
 */
export function scopeOfTag(tag: string): string | null {
  if (SCOPE_BY_TAG[tag] !== undefined) return SCOPE_BY_TAG[tag];
  if (/^RbdMirroring/.test(tag)) return 'rbd-mirroring';
  if (/^Rbd/.test(tag)) return 'rbd-image';
  if (/^ceph_?fs/i.test(tag)) return 'cephfs';
  if (/^rgw/i.test(tag)) return 'rgw';
  if (/^NVMe-oF/.test(tag)) return 'nvme-of';
  if (/^Iscsi/.test(tag)) return 'iscsi';
  return null;
}

const SCOPE_BY_TAG: Readonly<Record<string, string | null>> = {
  Auth: null,
  Cluster: 'config-opt',
  ClusterConfiguration: 'config-opt',
  Upgrade: 'config-opt',
  CrushRule: 'pool',
  ErasureCodeProfile: 'pool',
  Pool: 'pool',
  Daemon: 'hosts',
  Hardware: 'hosts',
  Host: 'hosts',
  Service: 'hosts',
  FeatureTogglesEndpoint: null,
  Grafana: 'grafana',
  Health: null,
  Logs: 'log',
  MgrModule: 'config-opt',
  Monitor: 'monitor',
  Motd: null,
  'Multi-cluster': 'config-opt',
  'NFS-Ganesha': 'nfs-ganesha',
  OSD: 'osd',
  PerfCounters: null,
  MdsPerfCounter: 'cephfs',
  MgrPerfCounter: 'manager',
  MonPerfCounter: 'monitor',
  OsdPerfCounter: 'osd',
  RgwMirrorPerfCounter: 'rbd-mirroring',
  RgwPerfCounter: 'rgw',
  TcmuRunnerPerfCounter: 'iscsi',
  Prometheus: 'prometheus',
  PrometheusNotifications: 'prometheus',
  Report: 'config-opt',
  Role: 'user',
  Settings: 'config-opt',
  SMB: 'smb',
  Summary: null,
  Task: null,
  Telemetry: 'config-opt',
  User: 'user',
  UserPasswordPolicy: null,
  UserChangePassword: null,
};

/** Ceph's own rule (docs/ceph-facts.md "Authorization inside Ceph"): GET->read, POST->create, PUT->update, DELETE->delete. */
export function permissionOfMethod(method: HttpMethod): CephPermission | null {
  switch (method) {
    case 'GET':
    case 'HEAD':
      return 'read';
    case 'POST':
      return 'create';
    case 'PUT':
    case 'PATCH':
      return 'update';
    case 'DELETE':
      return 'delete';
    default:
      return null;
  }
}

/**
 * Paths Ceph serves without a token that the specs do not list (docs/ceph-facts.md "Paths that need care").
 * They are catalogued so they can be recognised and refused unless configured; `/docs/*` is listed
 * by its known files because the catalogue has no wildcards. The `/ui-api` ones come with every other
 * `/ui-api` route from the dashboard's controllers (ui-api.ts, src/ceph/catalogue/ui-api-<release>.json).
 */
export const EXTRA_UNAUTHENTICATED: readonly { id: string; method: HttpMethod; template: string }[] = [
  { id: 'Docs.index', method: 'GET', template: '/docs' },
  { id: 'Docs.openapi_json', method: 'GET', template: '/docs/openapi.json' },
  { id: 'Docs.api_json', method: 'GET', template: '/docs/api.json' },
  { id: 'PrometheusReceiver.create', method: 'POST', template: '/api/prometheus_receiver' },
  { id: 'Saml2.auth_response', method: 'POST', template: '/auth/saml2' },
  { id: 'Saml2.login', method: 'GET', template: '/auth/saml2/login' },
  { id: 'Saml2.metadata', method: 'GET', template: '/auth/saml2/metadata' },
  { id: 'Saml2.logout', method: 'GET', template: '/auth/saml2/logout' },
  { id: 'Saml2.slo', method: 'GET', template: '/auth/saml2/slo' },
];

/** Spec paths served without a token although they are in the spec (the Auth controller is `secure=False`). */
export function isUnauthenticatedSpecOp(template: string, hasSecurity: boolean): boolean {
  return !hasSecurity || template === '/api/auth' || template.startsWith('/api/auth/');
}
