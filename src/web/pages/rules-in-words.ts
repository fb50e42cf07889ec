// "What you may do": the rules of the active policy set whose subjects include a principal, put into
// words (what, on which routes, under which conditions, as which Ceph account). Reads the compiled
// rules; decides nothing: the engine stays the only judge of a request. Only rules that name the
// principal are shown, without their file positions (other people's rules stay behind Gateway.explain).

import type { Principal } from '../../core/principal.ts';
import type { CompiledCondition, CompiledOp, CompiledRule } from '../../policy/model.ts';

export interface RuleInWords {
  readonly id: string;
  readonly effect: 'allow' | 'deny';
  /** The rule's own description, or a generated one. */
  readonly headline: string;
  /** One phrase per part of the rule: routes, methods, clusters, conditions, Ceph account. */
  readonly details: readonly string[];
}

export interface RulesForPrincipal {
  /** Deny rules: they win over every allow. */
  readonly never: readonly RuleInWords[];
  readonly allowed: readonly RuleInWords[];
  /** Shadow rules: recorded when they match, not enforced. */
  readonly trial: readonly RuleInWords[];
}

/** The same subject test as the engine (policy/engine.ts): every kind the rule lists must match. */
export function ruleNames(rule: CompiledRule, p: Principal): boolean {
  const s = rule.subjects;
  if (s.any) return true;
  if (s.groups !== null && !p.groups.some((g) => s.groups?.has(g))) return false;
  if (s.principals !== null && !s.principals.has(p.id)) return false;
  if (s.authMethods !== null && !s.authMethods.has(p.method)) return false;
  if (s.apiKeys !== null && (p.method !== 'api_key' || p.apiKeyName === null || !s.apiKeys.has(p.apiKeyName))) return false;
  return true;
}

const GATEWAY_WORDS: Record<string, string> = {
  'Gateway.*': 'every operation of the gateway itself (audit log, explain, API keys)',
  'Gateway.audit.read': 'read the audit log',
  'Gateway.explain': 'explain policy decisions',
  'Gateway.apikey.admin': 'administer API keys',
};

function routeWords(route: string): string {
  if (route === '*') return 'every Ceph API route';
  const gateway = GATEWAY_WORDS[route];
  if (gateway !== undefined) return gateway;
  if (/^[a-z][a-z0-9-]*:[a-z]+$/.test(route)) {
    const [scope, permission] = route.split(':') as [string, string];
    return `${permission} in the ${scope} scope`;
  }
  if (route.endsWith('.*')) return `every ${route.slice(0, -2)} operation`;
  return route;
}

const quote = (v: unknown) => JSON.stringify(v);

function opWords(op: CompiledOp): string {
  switch (op.op) {
    case 'equals':
      return `is ${quote(op.value)}`;
    case 'one_of':
      return `is one of ${op.values.map(quote).join(', ')}`;
    case 'glob':
      return `matches ${op.source.map(quote).join(' or ')}`;
    case 'prefix':
      return `starts with ${op.values.map(quote).join(' or ')}`;
    case 'min':
      return `is at least ${op.value}`;
    case 'max':
      return `is at most ${op.value}`;
    case 'exists':
      return op.value ? 'is present' : 'is absent';
  }
}

/** An allow needs every value to satisfy the condition, a deny only one (policy/conditions.ts). */
function conditionWords(c: CompiledCondition, effect: 'allow' | 'deny'): string {
  const ops = c.ops.map(opWords).join(' and ');
  if (c.ref.kind === 'pools') return `when ${effect === 'allow' ? 'every pool' : 'any pool'} the request names ${ops}`;
  return `when ${c.field} ${ops}`;
}

export function ruleInWords(rule: CompiledRule): RuleInWords {
  const details: string[] = [rule.routes.map(routeWords).join('; ')];
  // The gateway's own operations are decided whatever the HTTP method: naming one would mislead.
  if (!rule.routes.every((r) => r.startsWith('Gateway.'))) details.push(rule.methods === null ? 'any method' : `methods ${[...rule.methods].join(', ')}`);
  if (rule.clusters !== null) details.push(`on cluster ${[...rule.clusters].join(', ')}`);
  for (const c of rule.conditions) details.push(conditionWords(c, rule.effect));
  if (rule.cephAccount !== null) details.push(`served by the Ceph account ${rule.cephAccount}`);
  const headline = rule.description !== '' ? rule.description : `${rule.effect === 'allow' ? 'Allows' : 'Denies'} ${details[0]}`;
  return { id: rule.id, effect: rule.effect, headline, details };
}

export function rulesFor(rules: readonly CompiledRule[], p: Principal): RulesForPrincipal {
  const mine = rules.filter((r) => ruleNames(r, p));
  return {
    never: mine.filter((r) => !r.shadow && r.effect === 'deny').map(ruleInWords),
    allowed: mine.filter((r) => !r.shadow && r.effect === 'allow').map(ruleInWords),
    trial: mine.filter((r) => r.shadow).map(ruleInWords),
  };
}
