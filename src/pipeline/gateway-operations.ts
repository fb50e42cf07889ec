// Authorisation of the gateway's own endpoints (audit API and pages, explain, API-key admin): the
// caller is authenticated by the same chain, the policy decides on a pseudo operation (Gateway.*),
// refusals are recorded like any refusal, and changes of gateway state are recorded before they
// happen, like Ceph mutations. Framework-free: the web layer calls it through core/gateway-operations.ts.

import { v7 as uuidv7 } from 'uuid';
import { intentOf } from '../audit/intent.ts';
import { auditUnavailable } from '../core/errors.ts';
import type { GatewayAuthorizer } from '../core/gateway-operations.ts';
import { MUTATING_METHODS } from '../core/http.ts';
import { gatewayPolicyInput } from '../policy/gateway-operations.ts';
import { orRecordRefusal } from './audit-steps.ts';
import { decideSafely, refusalOf } from './decide.ts';
import type { PipelineDeps } from './deps.ts';

export function createGatewayAuthorizer(deps: PipelineDeps): GatewayAuthorizer {
  const defaultCluster = deps.config.ceph.default_cluster ?? deps.config.ceph.clusters[0]?.name ?? 'default';
  return async function authorize(state, method, op) {
    const principal = await orRecordRefusal(deps, state, method, null, async () => {
      state.principal = await deps.authenticate({ method: method as 'GET', headers: state.headers, target: state.target, clientIp: state.clientIp });
      return state.principal;
    });
    const input = gatewayPolicyInput(principal, op, defaultCluster, deps.now());
    state.route = input.route;
    state.decision = decideSafely(deps, input);
    await orRecordRefusal(deps, state, method, null, () => {
      const refused = refusalOf(state.decision as NonNullable<typeof state.decision>);
      if (refused !== null) throw refused;
    });
    if (MUTATING_METHODS.has(method)) {
      try {
        await deps.audit.recordIntent(intentOf(state, { id: uuidv7(), method, body: null, final: { status: 200, code: null } }));
      } catch (err) {
        throw auditUnavailable('The audit log cannot record this request, so it was not carried out.', err);
      }
    }
    return principal;
  };
}
