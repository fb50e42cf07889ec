// Internal data model of the policy engine: what the loader needs from the catalogue, the compiled
// rule and condition shapes, and load errors. The external contracts live in pipeline/types.ts.

import type { CatalogueOperation } from '../core/catalogue.ts';
import type { HttpMethod } from '../core/http.ts';
import type { AuthMethod } from '../core/principal.ts';

/** The part of the route catalogue the loader needs (ceph/catalogue.ts's RouteCatalogue satisfies it). */
export interface PolicyCatalogue {
  readonly operations: readonly CatalogueOperation[];
}

/** Where a rule (or a field of it) was written, for error messages and explain output. */
export interface SourcePos {
  readonly file: string;
  readonly line: number;
}

/** One load problem: `file:line: rule <id>: message`. All problems are collected, never just the first. */
export interface PolicyLoadIssue extends SourcePos {
  readonly ruleId: string | null;
  readonly message: string;
}

export function formatIssue(i: PolicyLoadIssue): string {
  return `${i.file}:${i.line}: ${i.ruleId === null ? '' : `rule ${i.ruleId}: `}${i.message}`;
}

export class PolicyLoadError extends Error {
  readonly issues: readonly PolicyLoadIssue[];
  constructor(issues: readonly PolicyLoadIssue[]) {
    super(`policy set rejected: ${issues.length} problem(s)\n${issues.map(formatIssue).join('\n')}`);
    this.name = 'PolicyLoadError';
    this.issues = issues;
  }
}

/** What the loader is checked against. */
export interface PolicyLoadOptions {
  /** One catalogue per Ceph release in use; a route is known when any of them knows it. */
  readonly catalogues: readonly PolicyCatalogue[];
  /** Configured Ceph account names per cluster; null skips account checks (offline check without config). */
  readonly accounts: Readonly<Record<string, readonly string[]>> | null;
  /** Bodies longer than this are not inspected: body conditions on them cannot be evaluated. */
  readonly maxInspectBytes: number;
}

export type Scalar = string | number | boolean;

/** A condition operator, precompiled (globs are RegExps already). */
export type CompiledOp =
  | { readonly op: 'equals'; readonly value: Scalar }
  | { readonly op: 'one_of'; readonly values: readonly Scalar[] }
  | { readonly op: 'glob'; readonly source: readonly string[]; readonly re: RegExp }
  | { readonly op: 'prefix'; readonly values: readonly string[] }
  | { readonly op: 'min'; readonly value: number }
  | { readonly op: 'max'; readonly value: number }
  | { readonly op: 'exists'; readonly value: boolean };

/** Where a condition reads its value(s) from. */
export type FieldRef =
  | { readonly kind: 'path'; readonly param: string; readonly part: 'pool' | 'namespace' | 'image' | null }
  | { readonly kind: 'query'; readonly name: string }
  | { readonly kind: 'body'; readonly path: readonly string[] }
  | { readonly kind: 'claims'; readonly path: readonly string[] }
  | { readonly kind: 'pools' }
  | { readonly kind: 'time'; readonly part: 'hour' | 'weekday' | 'date' | 'unix' };

export interface CompiledCondition {
  /** The field as written, e.g. `body.data_pool`. */
  readonly field: string;
  readonly ref: FieldRef;
  readonly ops: readonly CompiledOp[];
}

export interface CompiledSubjects {
  readonly any: boolean;
  readonly groups: ReadonlySet<string> | null;
  readonly principals: ReadonlySet<string> | null;
  readonly authMethods: ReadonlySet<AuthMethod> | null;
  readonly apiKeys: ReadonlySet<string> | null;
}

export interface CompiledRule {
  readonly id: string;
  readonly effect: 'allow' | 'deny';
  readonly description: string;
  readonly shadow: boolean;
  readonly subjects: CompiledSubjects;
  /** Methods the rule names, or null for "every method of its routes". */
  readonly methods: ReadonlySet<HttpMethod> | null;
  /** The route entries as written (for explain). */
  readonly routes: readonly string[];
  /** True when the rule names `*`: it also applies to routes unknown to the catalogue. */
  readonly allRoutes: boolean;
  readonly clusters: ReadonlySet<string> | null;
  readonly conditions: readonly CompiledCondition[];
  readonly cephAccount: string | null;
  /** True when a condition reads the body (so the content type must be JSON). */
  readonly readsBody: boolean;
  readonly pos: SourcePos;
  /** Position in the policy set (files sorted by name, rules in file order): first matching allow wins. */
  readonly order: number;
}
