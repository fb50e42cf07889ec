// The compiled policy set: rules indexed by operation (method + template), decide() and explain().
// decide() is pure and never throws: an internal failure is a deny without a rule id.

import type { CatalogueOperation } from '../core/catalogue.ts';
import type { Decision, PolicyEngine, PolicyInput } from '../core/decision.ts';
import type { HttpMethod } from '../core/http.ts';
import type { Principal } from '../core/principal.ts';
import { type Bucket, EMPTY_BUCKET, type IndexedBucket, indexBucket, type Lane } from './bucket.ts';
import { type CondResult, evaluate } from './conditions.ts';
import type { CompiledRule } from './model.ts';
import { RequestView } from './request-view.ts';

export interface ExplainEntry {
  readonly ruleId: string;
  readonly file: string;
  readonly line: number;
  readonly effect: 'allow' | 'deny';
  readonly mode: 'enforce' | 'shadow';
  readonly matched: boolean;
  /** Why it matched or not: subjects, cluster, method, then each condition. */
  readonly reasons: readonly string[];
}

export interface Explanation {
  readonly decision: Decision;
  /** Every rule indexed for this operation, in evaluation order. */
  readonly rules: readonly ExplainEntry[];
}

export const opKey = (method: HttpMethod, template: string) => `${method} ${template}`;

export class CompiledPolicy implements PolicyEngine {
  constructor(
    readonly version: string,
    readonly rules: readonly CompiledRule[],
    buckets: ReadonlyMap<string, Bucket>,
    /** Rules naming `*`: the only ones that apply to a route unknown to the catalogue. */
    unknownRoute: Bucket,
    private readonly maxInspectBytes: number,
  ) {
    for (const [k, b] of buckets) this.index.set(k, indexBucket(b));
    this.unknownRoute = indexBucket(unknownRoute);
  }

  private readonly index = new Map<string, IndexedBucket>();
  private readonly unknownRoute: IndexedBucket;
  private readonly byOp = new WeakMap<CatalogueOperation, IndexedBucket>();
  /** Why the last checked rule could not be evaluated (decisions are synchronous, so one slot is enough). */
  private why: string | null = null;

  decide(input: PolicyInput): Decision {
    try {
      return this.run(input, null);
    } catch {
      return this.failed();
    }
  }

  explain(input: PolicyInput): Explanation {
    const entries: ExplainEntry[] = [];
    try {
      const decision = this.run(input, entries);
      return { decision, rules: entries };
    } catch {
      return { decision: this.failed(), rules: entries };
    }
  }

  /**
   * Whether some request of `op` could be allowed for the principal on the cluster, ignoring conditions:
   * an enforced allow rule names them and no enforced deny rule without conditions does. The answer is
   * the Ceph account that would serve it (null: the cluster's default account), or undefined when the
   * principal can never be allowed the operation. For the permissions the dashboard UI is told about.
   */
  couldAllow(principal: Principal, cluster: string, op: CatalogueOperation): { readonly cephAccount: string | null } | undefined {
    const bucket = this.index.get(opKey(op.method, op.template)) ?? EMPTY_BUCKET;
    const applies = (rule: CompiledRule) => subjectMismatch(rule, principal) === null && (rule.clusters === null || rule.clusters.has(cluster));
    if (bucket.deny.all.some((rule) => rule.conditions.length === 0 && applies(rule))) return undefined;
    const allow = bucket.allow.all.find(applies);
    return allow === undefined ? undefined : { cephAccount: allow.cephAccount };
  }

  /** How many rules the index holds for an operation (tests and the bench check the index works). */
  bucketSize(op: CatalogueOperation): number {
    const b = this.index.get(opKey(op.method, op.template)) ?? EMPTY_BUCKET;
    return b.deny.all.length + b.allow.all.length + b.shadow.length;
  }

  private failed(): Decision {
    return failedDecision(this.version);
  }

  // No closures in the hot path: under tsx every closure is wrapped in a keep-names helper that
  // costs more than the whole decision.
  private run(input: PolicyInput, trace: ExplainEntry[] | null): Decision {
    const op = input.route.operation;
    let bucket: IndexedBucket;
    if (op === null) bucket = this.unknownRoute;
    else {
      // Operation objects are shared catalogue entries: a WeakMap hit avoids building the key string.
      const cached = this.byOp.get(op);
      if (cached !== undefined) bucket = cached;
      else {
        bucket = this.index.get(opKey(op.method, op.template)) ?? EMPTY_BUCKET;
        this.byOp.set(op, bucket);
      }
    }
    if (bucket === EMPTY_BUCKET) return this.finish('deny', null, 'no rule allows this request', null, undefined);
    const view = new RequestView(input, this.maxInspectBytes);
    let shadow: { ruleId: string; effect: 'allow' | 'deny' }[] | undefined;
    for (const rule of bucket.shadow) {
      if (!this.matches(rule, input, view, trace)) continue;
      shadow ??= [];
      shadow.push({ ruleId: rule.id, effect: rule.effect });
    }
    const deny = this.first(bucket.deny, input, view, trace);
    if (deny !== null && deny.rule !== null) {
      const detail = deny.why ?? deny.rule.description;
      return this.finish('deny', deny.rule.id, `denied by rule ${deny.rule.id}${detail ? `: ${detail}` : ''}`, null, shadow);
    }
    const allow = this.first(bucket.allow, input, view, trace);
    if (allow !== null && allow.rule !== null) return this.finish('allow', allow.rule.id, `allowed by rule ${allow.rule.id}`, allow.rule.cephAccount, shadow);
    // The reason may say the body could not be inspected, but never which rule wanted to look.
    const blocked = allow?.why;
    return this.finish('deny', null, `no rule allows this request${blocked ? ` (${blocked})` : ''}`, null, shadow);
  }

  /**
   * The first rule of the lane (in policy order) that matches, with the condition that could not be
   * evaluated if any; `rule: null` with a `why` when nothing matched but some rule could not be evaluated.
   * Explain walks every rule; a decision walks only the principal's groups and the group-less rules.
   */
  private first(
    lane: Lane,
    input: PolicyInput,
    view: RequestView,
    trace: ExplainEntry[] | null,
  ): { rule: CompiledRule; why: string | null } | { rule: null; why: string } | null {
    let best: CompiledRule | null = null;
    let bestWhy: string | null = null;
    let blocked: string | null = null;
    if (trace !== null) {
      for (const rule of lane.all) {
        const m = this.matches(rule, input, view, trace);
        if (m && best === null) {
          best = rule;
          bestWhy = this.why;
        } else if (!m) blocked ??= this.why;
      }
    } else {
      for (let i = -1; i < input.principal.groups.length; i++) {
        const list = i < 0 ? lane.rest : lane.byGroup.get(input.principal.groups[i] as string);
        if (list === undefined) continue;
        for (const rule of list) {
          if (best !== null && rule.order >= best.order) break;
          if (this.matches(rule, input, view, null)) {
            best = rule;
            bestWhy = this.why;
            break;
          }
          blocked ??= this.why;
        }
      }
    }
    if (best !== null) return { rule: best, why: bestWhy };
    return blocked === null ? null : { rule: null, why: blocked };
  }

  private finish(effect: 'allow' | 'deny', ruleId: string | null, reason: string, cephAccount: string | null, shadow: Decision['shadow']): Decision {
    const d = { effect, ruleId, reason, cephAccount, policyVersion: this.version };
    return shadow === undefined ? d : { ...d, shadow };
  }

  /**
   * Does the rule apply? A condition that cannot be evaluated makes a deny rule match and an allow
   * rule not match (fail closed); its reason is left in `this.why`.
   */
  private matches(rule: CompiledRule, input: PolicyInput, view: RequestView, trace: ExplainEntry[] | null): boolean {
    const reasons: string[] | null = trace === null ? null : [];
    this.why = null;
    const matched = this.check(rule, input, view, reasons);
    if (trace !== null && reasons !== null) {
      trace.push({
        ruleId: rule.id,
        file: rule.pos.file,
        line: rule.pos.line,
        effect: rule.effect,
        mode: rule.shadow ? 'shadow' : 'enforce',
        matched,
        reasons,
      });
    }
    return matched;
  }

  private check(rule: CompiledRule, input: PolicyInput, view: RequestView, reasons: string[] | null): boolean {
    const subj = subjectMismatch(rule, input.principal);
    if (subj !== null) {
      reasons?.push(subj);
      return false;
    }
    reasons?.push('subjects match');
    if (rule.clusters !== null && !rule.clusters.has(input.route.cluster)) {
      reasons?.push(`cluster ${input.route.cluster} not in ${[...rule.clusters].join(', ')}`);
      return false;
    }
    // Known operations were filtered by method at load; for an unknown route check the method here.
    if (input.route.operation === null && rule.methods !== null && !rule.methods.has(input.method)) {
      reasons?.push(`method ${input.method} not in ${[...rule.methods].join(', ')}`);
      return false;
    }
    for (const c of rule.conditions) {
      const res: CondResult = evaluate(c, view, rule.effect, reasons !== null);
      if (res.r === 'true') {
        reasons?.push(`${c.field}: holds (${res.why})`);
        continue;
      }
      if (res.r === 'false') {
        reasons?.push(`${c.field}: does not hold (${res.why})`);
        return false;
      }
      reasons?.push(`${c.field}: cannot be evaluated (${res.why})`);
      this.why ??= res.why;
      if (rule.effect === 'allow') return false;
    }
    return true;
  }
}

/** Null when the principal is a subject of the rule, else why not. Every listed kind must match. */
function subjectMismatch(rule: CompiledRule, p: Principal): string | null {
  const s = rule.subjects;
  if (s.any) return null;
  if (s.groups !== null) {
    let inGroup = false;
    for (const g of p.groups) {
      if (s.groups.has(g)) {
        inGroup = true;
        break;
      }
    }
    if (!inGroup) return 'principal is in none of the groups';
  }
  if (s.principals !== null && !s.principals.has(p.id)) return 'principal id not listed';
  if (s.authMethods !== null && !s.authMethods.has(p.method)) return `auth method ${p.method} not listed`;
  if (s.apiKeys !== null && (p.apiKeyName === null || p.method !== 'api_key' || !s.apiKeys.has(p.apiKeyName))) return 'API key not listed';
  return null;
}

/** The deny an engine failure turns into: never "allowed", and marked so it is answered `policy_error`. */
export function failedDecision(policyVersion: string): Decision {
  return { effect: 'deny', ruleId: null, reason: 'policy evaluation failed', cephAccount: null, policyVersion, failed: true };
}
