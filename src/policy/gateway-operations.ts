// The gateway's own operations (not Ceph routes) that policies authorise: reading the audit log,
// explaining a decision, administering API keys. Exposed as pseudo catalogue operations (scope
// `gateway`) so rules name them like Ceph operations, e.g. `routes: [Gateway.audit.read]`.

import type { CatalogueOperation } from '../core/catalogue.ts';
import type { PolicyInput } from '../core/decision.ts';
import type { GatewayOperationId } from '../core/gateway-operations.ts';
import type { HttpMethod } from '../core/http.ts';
import type { Principal } from '../core/principal.ts';

function gatewayOp(id: string, method: HttpMethod, template: string, permission: CatalogueOperation['permission']): CatalogueOperation {
  return {
    id,
    method,
    template,
    segments: template
      .split('/')
      .slice(1)
      .map((literal) => ({ literal })),
    pathParams: [],
    version: '1.0',
    scope: 'gateway',
    permission,
    poolFields: [],
    secretFields: [],
    bodyFields: [],
    queryParams: [],
    unauthenticated: false,
  };
}

export const GATEWAY_OPERATIONS = {
  'Gateway.audit.read': gatewayOp('Gateway.audit.read', 'GET', '/gateway/v1/audit', 'read'),
  'Gateway.explain': gatewayOp('Gateway.explain', 'POST', '/gateway/v1/explain', 'read'),
  'Gateway.apikey.admin': gatewayOp('Gateway.apikey.admin', 'POST', '/gateway/v1/apikeys', 'update'),
} as const satisfies Record<GatewayOperationId, CatalogueOperation>;

/** The pseudo catalogue the loader adds to the Ceph catalogues. */
export const gatewayCatalogue = { operations: Object.values(GATEWAY_OPERATIONS) } as const;

/**
 * The PolicyInput for a gateway endpoint. The HTTP method of the endpoint does not matter: the
 * operation's own method is used, so one rule covers e.g. every API-key admin endpoint.
 */
export function gatewayPolicyInput(principal: Principal, id: GatewayOperationId, cluster: string, now: Date): PolicyInput {
  const op = GATEWAY_OPERATIONS[id];
  return {
    principal,
    method: op.method,
    route: { cluster, operation: op, template: op.template, params: {} },
    query: {},
    body: null,
    contentType: null,
    now,
  };
}
