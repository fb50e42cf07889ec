// Which rate-limit rules a request falls under and which counters it spends (pure: no store, no clock).
// A request is a read (GET/HEAD) or a mutation; a rule limits either or both with separate budgets.

import type { Budget, RateLimitRule } from '../config/rate-limits.ts';
import type { RouteMatch } from '../core/catalogue.ts';
import { MUTATING_METHODS } from '../core/http.ts';
import type { Principal } from '../core/principal.ts';

export type RequestKind = 'read' | 'mutation';

/** One counter a request spends: the rule's budget for its kind, under one partition key. */
export interface Spend {
  readonly rule: RateLimitRule;
  readonly kind: RequestKind;
  readonly budget: Budget;
  /** The counter's key, unique per rule, kind and partition (`team-a-reads/read/group:team-a`). */
  readonly key: string;
}

export const kindOf = (method: string): RequestKind => (MUTATING_METHODS.has(method) ? 'mutation' : 'read');

function subjectMatches(rule: RateLimitRule, p: Principal): boolean {
  const s = rule.subjects;
  const anyListed = s.principals.length + s.groups.length + s.api_keys.length + s.auth_methods.length > 0;
  if (!anyListed) return true;
  return (
    s.principals.includes(p.id) ||
    p.groups.some((g) => s.groups.includes(g)) ||
    (p.apiKeyName !== null && s.api_keys.includes(p.apiKeyName)) ||
    s.auth_methods.includes(p.method)
  );
}

/** `Pool.create`, `POST /api/pool` or `/api/pool` (any method). */
function routeMatches(rule: RateLimitRule, route: RouteMatch, method: string): boolean {
  if (rule.routes.length === 0) return true;
  const op = route.operation?.id;
  return rule.routes.some((r) => r === op || r === route.template || r === `${method} ${route.template}`);
}

/** The partitions of a matching rule for this caller: one key each. Empty when the rule partitions by something the caller lacks. */
function partitions(rule: RateLimitRule, p: Principal, route: RouteMatch): string[] {
  switch (rule.per) {
    case 'principal':
      return [`principal:${p.id}`];
    case 'group': {
      const named = rule.subjects.groups;
      return p.groups.filter((g) => named.length === 0 || named.includes(g)).map((g) => `group:${g}`);
    }
    case 'api_key':
      return p.apiKeyName === null ? [] : [`api_key:${p.apiKeyName}`];
    case 'cluster':
      return [`cluster:${route.cluster}`];
    case 'rule':
      return ['all'];
  }
}

/** Every counter the request spends, in rule order. */
export function spendsOf(rules: readonly RateLimitRule[], p: Principal, route: RouteMatch, method: string): Spend[] {
  const kind = kindOf(method);
  const out: Spend[] = [];
  for (const rule of rules) {
    const budget = kind === 'read' ? rule.reads : rule.mutations;
    if (budget === undefined) continue;
    if (rule.clusters.length > 0 && !rule.clusters.includes(route.cluster)) continue;
    if (!subjectMatches(rule, p) || !routeMatches(rule, route, method)) continue;
    // The cluster is part of every key: a budget never spans clusters unless the rule is per `rule`.
    const scope = rule.per === 'rule' ? '' : `${route.cluster}/`;
    for (const part of partitions(rule, p, route)) out.push({ rule, kind, budget, key: `${rule.name}/${kind}/${scope}${part}` });
  }
  return out;
}
