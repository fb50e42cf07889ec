// The rules of one operation, indexed once more by group: a principal's decision looks only at the
// rules of its own groups plus the rules without a group subject, so cost stays flat as teams are added.

import type { CompiledRule } from './model.ts';

/** Rules of one operation, split so a decision stops at the first matching deny, then the first allow. */
export interface Bucket {
  readonly deny: readonly CompiledRule[];
  readonly allow: readonly CompiledRule[];
  readonly shadow: readonly CompiledRule[];
}

export interface Lane {
  /** Every rule, in policy order (explain walks this). */
  readonly all: readonly CompiledRule[];
  readonly byGroup: ReadonlyMap<string, readonly CompiledRule[]>;
  /** Rules whose subjects name no group. */
  readonly rest: readonly CompiledRule[];
}

export interface IndexedBucket {
  readonly deny: Lane;
  readonly allow: Lane;
  readonly shadow: readonly CompiledRule[];
}

function lane(rules: readonly CompiledRule[]): Lane {
  const byGroup = new Map<string, CompiledRule[]>();
  const rest: CompiledRule[] = [];
  for (const r of rules) {
    if (r.subjects.groups === null) rest.push(r);
    else for (const g of r.subjects.groups) byGroup.set(g, [...(byGroup.get(g) ?? []), r]);
  }
  return { all: rules, byGroup, rest };
}

export function indexBucket(b: Bucket): IndexedBucket {
  return { deny: lane(b.deny), allow: lane(b.allow), shadow: b.shadow };
}

export const EMPTY_BUCKET: IndexedBucket = indexBucket({ deny: [], allow: [], shadow: [] });
