// Authorisation of the gateway's own endpoints (audit API, explain, API-key admin): the caller is
// authenticated by the same chain, the policy decides on a pseudo operation (Gateway.*), refusals
// are audited like any denial, and mutations of gateway state are audited as complete records.

import type { Context } from 'hono';
import { v7 as uuidv7 } from 'uuid';
import type { PipelineDeps } from '../pipeline/deps.ts';
import { auditDenial } from '../pipeline/audit-steps.ts';
import { decideSafely } from '../pipeline/decide.ts';
import type { Principal } from '../pipeline/types.ts';
import { type GatewayOperationId, gatewayPolicyInput } from '../policy/gateway-operations.ts';
import type { AppEnv } from './env.ts';
import { auditUnavailable, GatewayError } from './errors.ts';

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export function createGatewayAuthorizer(deps: PipelineDeps) {
  const defaultCluster = deps.config.ceph.default_cluster ?? deps.config.ceph.clusters[0]?.name ?? 'default';
  return async function authorize(c: Context<AppEnv>, op: GatewayOperationId): Promise<Principal> {
    const state = c.get('state');
    const method = c.req.method;
    let principal: Principal;
    try {
      principal = await deps.authenticate({ method: method as 'GET', headers: state.headers, target: state.target, clientIp: state.clientIp });
    } catch (err) {
      await auditDenial(deps, state, method, null, err);
      throw err;
    }
    state.principal = principal;
    const input = gatewayPolicyInput(principal, op, defaultCluster, deps.now());
    state.route = input.route;
    const decision = decideSafely(deps, input);
    state.decision = decision;
    if (decision.effect !== 'allow') {
      const err = new GatewayError(403, 'policy_denied', decision.reason, { extra: { rule: decision.ruleId } });
      await auditDenial(deps, state, method, null, err);
      throw err;
    }
    if (MUTATING.has(method)) {
      // Changes to gateway state (API keys) are audited before they happen, like Ceph mutations.
      const id = uuidv7();
      try {
        await deps.audit.recordIntent({
          id, requestId: state.requestId, receivedAt: state.receivedAt, cluster: null, principal, clientIp: state.clientIp,
          userAgent: state.headers.get('user-agent')?.[0] ?? null, method, rawPath: state.target.raw, route: input.route,
          query: state.target.query, body: null, decision, finalStatus: 200,
        });
      } catch (err) {
        throw auditUnavailable('The audit log cannot record this request, so it was not carried out.', err);
      }
    }
    return principal;
  };
}
