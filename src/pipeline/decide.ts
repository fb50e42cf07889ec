// The decide stage: asks the active policy set, times it, turns any internal failure into a deny (an
// exception in the policy engine must never become "allowed", docs/security.md class 7), and refuses
// what is denied with 403 and the deciding rule.

import type { Decision, PolicyEngine, PolicyInput } from '../core/decision.ts';
import { GatewayError } from '../core/errors.ts';
import { failedDecision } from '../policy/engine.ts';
import type { PipelineDeps } from './deps.ts';

export function decideSafely(deps: PipelineDeps, input: PolicyInput): Decision {
  const started = performance.now();
  let engine: PolicyEngine | undefined;
  try {
    engine = deps.policy();
    const decision = engine.decide(input);
    if (decision.effect === 'allow' || decision.effect === 'deny') return decision;
    throw new Error(`policy engine returned effect ${String((decision as { effect: unknown }).effect)}`);
  } catch (err) {
    deps.log.error({ err }, 'policy evaluation failed; denying');
    return failedDecision(engine?.version ?? 'unavailable');
  } finally {
    deps.metrics.policySeconds.observe((performance.now() - started) / 1000);
  }
}

/**
 * The refusal of a deny: 403 `policy_denied` naming the deciding rule, or `policy_error` when the engine
 * failed. A change refused to the dashboard web UI is answered 400 instead, in the shape of Ceph's own
 * refusals (`component`): the UI turns every 403 into a generic "Access Denied" page and shows the
 * `detail` of a 400 in its notification, which is the readable answer a person needs (docs/dashboard-ui.md).
 */
export function refusalOf(decision: Decision, toDashboardUi = false): GatewayError | null {
  if (decision.effect === 'allow') return null;
  const code = decision.failed === true ? 'policy_error' : 'policy_denied';
  if (toDashboardUi)
    return new GatewayError(400, code, `Not allowed by the gateway: ${decision.reason}`, { extra: { rule: decision.ruleId, component: 'cephgate' } });
  return new GatewayError(403, code, decision.reason, { extra: { rule: decision.ruleId } });
}

/** A change made by the dashboard web UI: a browser session, and Angular's X-XSRF-TOKEN (sent only on changes). */
export const fromDashboardUi = (method: string, principal: { method: string }, headers: ReadonlyMap<string, readonly string[]>): boolean =>
  principal.method === 'session' && method !== 'GET' && headers.has('x-xsrf-token');
