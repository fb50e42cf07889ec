// What the policy engine (policy/) decides on and what it answers: data with a reason, not a boolean.

import type { RouteMatch } from './catalogue.ts';
import type { HttpMethod } from './http.ts';
import type { Principal } from './principal.ts';

export interface Decision {
  readonly effect: 'allow' | 'deny';
  /** Rule that decided, or null for the default deny. */
  readonly ruleId: string | null;
  /** A human reason safe to return to the caller (names no other rules). */
  readonly reason: string;
  /** Ceph account that serves the request (allow only). */
  readonly cephAccount: string | null;
  /** Hash of the active policy set. */
  readonly policyVersion: string;
  /** Set when the policy engine failed: a deny made without evaluating the rules (answered `policy_error`). */
  readonly failed?: true;
  /** Rules in shadow mode that matched, with what they would have decided. */
  readonly shadow?: readonly { readonly ruleId: string; readonly effect: 'allow' | 'deny' }[];
}

/** Everything the policy engine decides on. `body` is the exact bytes that will be forwarded. */
export interface PolicyInput {
  readonly principal: Principal;
  readonly method: HttpMethod;
  readonly route: RouteMatch;
  readonly query: Readonly<Record<string, readonly string[]>>;
  readonly body: Buffer | null;
  readonly contentType: string | null;
  readonly now: Date;
}

export interface PolicyEngine {
  decide(input: PolicyInput): Decision;
  readonly version: string;
}
