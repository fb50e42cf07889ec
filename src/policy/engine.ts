// The compiled policy set: rules indexed by operation (method + template), decide() and explain().
// decide() is pure and never throws: an internal failure is a deny without a rule id.

import type { CatalogueOperation, Decision, HttpMethod, PolicyEngine, PolicyInput, Principal } from '../pipeline/types.ts';
import { type CondResult, evaluate } from './conditions.ts';
import type { CompiledRule } from './model.ts';
import { RequestView } from './request-view.ts';

/** Rules of one operation, split so a decision stops at the first matching deny, then the first allow. */
export interface Bucket {
  readonly deny: readonly CompiledRule[];
  readonly allow: readonly CompiledRule[];
  readonly shadow: readonly CompiledRule[];
}

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

const EMPTY: Bucket = { deny: [], allow: [], shadow: [] };

export const opKey = (method: HttpMethod, template: string) => `${method} ${template}`;

export class CompiledPolicy implements PolicyEngine {
  constructor(
    readonly version: string,
    readonly rules: readonly CompiledRule[],
    private readonly index: ReadonlyMap<string, Bucket>,
    /** Rules naming `*`: the only ones that apply to a route unknown to the catalogue. */
    private readonly unknownRoute: Bucket,
    private readonly maxInspectBytes: number,
  ) {}

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

  /** How many rules the index holds for an operation (tests and the bench check the index works). */
  bucketSize(op: CatalogueOperation): number {
    const b = this.index.get(opKey(op.method, op.template)) ?? EMPTY;
    return b.deny.length + b.allow.length + b.shadow.length;
  }

  private failed(): Decision {
    return { effect: 'deny', ruleId: null, reason: 'policy evaluation failed', cephAccount: null, policyVersion: this.version };
  }

  private run(input: PolicyInput, trace: ExplainEntry[] | null): Decision {
    const op = input.route.operation;
    const bucket = op === null ? this.unknownRoute : (this.index.get(opKey(op.method, op.template)) ?? EMPTY);
    const view = new RequestView(input, this.maxInspectBytes);
    let shadow: { ruleId: string; effect: 'allow' | 'deny' }[] | undefined;
    for (const rule of bucket.shadow) {
      if (this.matches(rule, input, view, trace)) (shadow ??= []).push({ ruleId: rule.id, effect: rule.effect });
    }
    const done = (d: Omit<Decision, 'policyVersion' | 'shadow'>): Decision =>
      shadow === undefined ? { ...d, policyVersion: this.version } : { ...d, policyVersion: this.version, shadow };
    for (const rule of bucket.deny) {
      const why: string[] = [];
      if (this.matches(rule, input, view, trace, why)) {
        const detail = why.length > 0 ? why.join('; ') : rule.description;
        return done({ effect: 'deny', ruleId: rule.id, reason: `denied by rule ${rule.id}${detail ? `: ${detail}` : ''}`, cephAccount: null });
      }
    }
    let blocked: string | null = null;
    for (const rule of bucket.allow) {
      const why: string[] = [];
      if (this.matches(rule, input, view, trace, why)) {
        return done({ effect: 'allow', ruleId: rule.id, reason: `allowed by rule ${rule.id}`, cephAccount: rule.cephAccount });
      }
      blocked ??= why[0] ?? null;
    }
    // The reason may say the body could not be inspected, but never which rule wanted to look.
    return done({ effect: 'deny', ruleId: null, reason: `no rule allows this request${blocked ? ` (${blocked})` : ''}`, cephAccount: null });
  }

  /**
   * Does the rule apply? `failures` collects conditions that could not be evaluated: they make a
   * deny rule match and an allow rule not match (fail closed).
   */
  private matches(rule: CompiledRule, input: PolicyInput, view: RequestView, trace: ExplainEntry[] | null, failures?: string[]): boolean {
    const reasons: string[] | null = trace === null ? null : [];
    const record = (matched: boolean): boolean => {
      if (trace !== null && reasons !== null) {
        trace.push({ ruleId: rule.id, file: rule.pos.file, line: rule.pos.line, effect: rule.effect, mode: rule.shadow ? 'shadow' : 'enforce', matched, reasons });
      }
      return matched;
    };
    const subj = subjectMismatch(rule, input.principal);
    if (subj !== null) {
      reasons?.push(subj);
      return record(false);
    }
    reasons?.push('subjects match');
    if (rule.clusters !== null && !rule.clusters.has(input.route.cluster)) {
      reasons?.push(`cluster ${input.route.cluster} not in ${[...rule.clusters].join(', ')}`);
      return record(false);
    }
    // Known operations were filtered by method at load; for an unknown route check the method here.
    if (input.route.operation === null && rule.methods !== null && !rule.methods.has(input.method)) {
      reasons?.push(`method ${input.method} not in ${[...rule.methods].join(', ')}`);
      return record(false);
    }
    for (const c of rule.conditions) {
      const res: CondResult = evaluate(c, view, rule.effect);
      if (res.r === 'true') {
        reasons?.push(`${c.field}: holds (${res.why})`);
        continue;
      }
      if (res.r === 'false') {
        reasons?.push(`${c.field}: does not hold (${res.why})`);
        return record(false);
      }
      reasons?.push(`${c.field}: cannot be evaluated (${res.why})`);
      failures?.push(res.why);
      if (rule.effect === 'allow') return record(false);
    }
    return record(true);
  }
}

/** Null when the principal is a subject of the rule, else why not. Every listed kind must match. */
function subjectMismatch(rule: CompiledRule, p: Principal): string | null {
  const s = rule.subjects;
  if (s.any) return null;
  if (s.groups !== null && !p.groups.some((g) => s.groups?.has(g))) return 'principal is in none of the groups';
  if (s.principals !== null && !s.principals.has(p.id)) return 'principal id not listed';
  if (s.authMethods !== null && !s.authMethods.has(p.method)) return `auth method ${p.method} not listed`;
  if (s.apiKeys !== null && (p.apiKeyName === null || p.method !== 'api_key' || !s.apiKeys.has(p.apiKeyName))) return 'API key not listed';
  return null;
}
