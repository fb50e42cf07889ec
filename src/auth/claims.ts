// Turning verified claims into a Principal: claim paths (Keycloak's nested `realm_access.roles`,
// `resource_access.<client>.roles`), static group mapping, and the `<issuer>#<sub>` id. Pure.

import type { ClaimMapping } from '../config/identity.ts';
import type { AuthMethod, Principal } from '../core/principal.ts';

export type ClaimPath = string | readonly string[];

/** Own-property walk only: a path like `__proto__.x` or `constructor` never reaches prototypes. */
export function claimAt(claims: Readonly<Record<string, unknown>>, path: ClaimPath): unknown {
  const keys = typeof path === 'string' ? path.split('.') : path;
  let cur: unknown = claims;
  for (const k of keys) {
    if (cur === null || typeof cur !== 'object' || Array.isArray(cur) || !Object.hasOwn(cur, k)) return undefined;
    cur = (cur as Record<string, unknown>)[k];
  }
  return cur;
}

const stringOrNull = (v: unknown): string | null => (typeof v === 'string' && v.length > 0 ? v : null);

/** Groups claim: an array of strings or a single string; anything else counts as no groups. */
export function groupsAt(claims: Readonly<Record<string, unknown>>, path: ClaimPath): string[] {
  const v = claimAt(claims, path);
  if (typeof v === 'string') return v.length > 0 ? [v] : [];
  if (Array.isArray(v)) return v.filter((g): g is string => typeof g === 'string' && g.length > 0);
  return [];
}

/** Static mapping: mapped groups expand, unmapped ones pass (`keep`) or vanish (`drop`); sorted, unique. */
export function mapGroups(groups: readonly string[], mapping: Readonly<Record<string, readonly string[]>>, unmapped: 'keep' | 'drop'): string[] {
  const out = new Set<string>();
  for (const g of groups) {
    const mapped = Object.hasOwn(mapping, g) ? mapping[g] : undefined;
    if (mapped !== undefined) for (const m of mapped) out.add(m);
    else if (unmapped === 'keep') out.add(g);
  }
  return [...out].sort();
}

export interface PrincipalSource {
  readonly issuer: string;
  readonly claims: Readonly<Record<string, unknown>>;
  readonly mapping: ClaimMapping;
  readonly groupMapping: Readonly<Record<string, readonly string[]>>;
  readonly unmappedGroups: 'keep' | 'drop';
  readonly method: AuthMethod;
  readonly now: Date;
}

/** Builds the principal, or null when the subject claim is missing (such a token is refused). */
export function principalFromClaims(src: PrincipalSource): Principal | null {
  const sub = stringOrNull(claimAt(src.claims, src.mapping.subject));
  if (sub === null) return null;
  const name = stringOrNull(claimAt(src.claims, src.mapping.name)) ?? stringOrNull(src.claims.preferred_username) ?? sub;
  return {
    id: `${src.issuer}#${sub}`,
    name,
    email: stringOrNull(claimAt(src.claims, src.mapping.email)),
    groups: mapGroups(groupsAt(src.claims, src.mapping.groups), src.groupMapping, src.unmappedGroups),
    method: src.method,
    authenticatedAt: src.now,
    apiKeyName: null,
    claims: src.claims,
  };
}
