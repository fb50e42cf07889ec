// The decide stage: asks the active policy set, times it, and turns any internal failure into a
// deny. An exception in the policy engine must never become "allowed" (SECURITY.md §7).

import type { PipelineDeps } from './deps.ts';
import type { Decision, PolicyEngine, PolicyInput } from './types.ts';

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
    return { effect: 'deny', ruleId: null, reason: 'policy evaluation failed', cephAccount: null, policyVersion: engine?.version ?? 'unavailable' };
  } finally {
    deps.metrics.policySeconds.observe((performance.now() - started) / 1000);
  }
}
