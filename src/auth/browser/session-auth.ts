// Session-cookie authenticator: the server-side session decides (ended or expired = refused), groups are
// refreshed from the IdP on a bounded interval (failure ends the session), and cookie-authenticated
// mutations need a same-origin Origin/Sec-Fetch-Site AND the session's X-CSRF-Token (OWASP CSRF cheat sheet).
//
// A refresh is shared by every gateway instance: refresh tokens rotate, and an IdP that sees a used one
// again may revoke the whole grant (RFC 9700 4.14.2), which would end the session. So one instance takes
// a lease on the session row for its generation and calls the IdP; the others (and concurrent requests of
// the same instance) wait for the generation to move and use the refreshed row.

import { timingSafeEqual } from 'node:crypto';
import type { IssuerConfig, SessionsConfig } from '../../config/identity.ts';
import { SAFE_METHODS } from '../../core/http.ts';
import type { AuthInput, AuthResult, Principal } from '../../core/principal.ts';
import type { SessionRow } from '../../db/schema.ts';
import type { DetectingAuthenticator } from '../chain.ts';
import { principalFromClaims } from '../claims.ts';
import { readCookie } from '../credentials.ts';
import { COOKIE_VALUE } from './cookies.ts';
import type { RelyingParty } from './oidc-client.ts';
import { seal, unseal } from './seal.ts';
import { type BrowserSessionStore, principalFromJson } from './session-store.ts';

/** How often a request waiting for another instance's refresh re-reads the session row. */
const REFRESH_POLL_MS = 25;

export interface SessionAuthDeps {
  readonly store: BrowserSessionStore;
  readonly rp: RelyingParty;
  readonly issuer: IssuerConfig;
  readonly sessions: SessionsConfig;
  readonly cookieName: string;
  /** The gateway's public origin, e.g. `https://ceph-gw.example.com`. */
  readonly origin: string;
  readonly sealKey: Buffer;
  readonly now?: () => Date;
}

type Refreshed = { readonly kind: 'ok'; readonly row: SessionRow; readonly principal: Principal } | { readonly kind: 'ended' } | { readonly kind: 'busy' };

export interface SessionAuthenticator extends DetectingAuthenticator {
  /** The live session of a cookie value (refreshed when due), or null when there is none. */
  lookup(cookieValue: string): Promise<{ row: SessionRow; principal: Principal } | null>;
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** CSRF check of a cookie-authenticated mutation; null when it passes, else why not. */
export function csrfProblem(input: AuthInput, origin: string, csrfToken: string): string | null {
  const one = (name: string) => {
    const v = input.headers.get(name) ?? [];
    return v.length === 1 ? (v[0] as string) : v.length === 0 ? undefined : null;
  };
  const o = one('origin');
  const site = one('sec-fetch-site');
  if (o === null || site === null) return 'repeated Origin or Sec-Fetch-Site';
  if (o === undefined && site === undefined) return 'neither Origin nor Sec-Fetch-Site';
  if (o !== undefined && o !== origin) return 'cross-origin Origin';
  if (site !== undefined && site !== 'same-origin') return `Sec-Fetch-Site ${site}`;
  // X-CSRF-Token (API clients, from /gateway/whoami) or X-XSRF-TOKEN (the dashboard UI: Angular copies the XSRF-TOKEN cookie).
  const csrf = one('x-csrf-token');
  const xsrf = one('x-xsrf-token');
  if (csrf === null || xsrf === null) return 'repeated X-CSRF-Token or X-XSRF-TOKEN';
  const token = csrf ?? xsrf;
  if (typeof token !== 'string' || !sameText(token, csrfToken)) return 'missing or wrong X-CSRF-Token';
  return null;
}

/** The principal of a browser session, from the ID token's claims and the issuer's claim mapping. */
export function sessionPrincipal(issuer: IssuerConfig, claims: Record<string, unknown>, at: Date): Principal | null {
  return principalFromClaims({
    issuer: issuer.issuer,
    claims,
    mapping: issuer.claims,
    groupMapping: issuer.group_mapping,
    unmappedGroups: issuer.unmapped_groups,
    method: 'session',
    now: at,
  });
}

export function createSessionAuthenticator(deps: SessionAuthDeps): SessionAuthenticator {
  const now = deps.now ?? (() => new Date());
  const inflight = new Map<string, Promise<Refreshed>>();
  // Longer than one refresh can take (token request, then userinfo); an instance that dies holding the
  // lease blocks the session's refresh for at most this long.
  const leaseMs = 3 * deps.issuer.http_timeout_ms + 5000;

  /** The IdP's answer for a refresh from `row`: the next principal and sealed refresh token, or null (refused). */
  async function callIdp(
    row: SessionRow,
    principal: Principal,
  ): Promise<{ principal: Principal; refreshTokenEnc: string | null; idToken: string | null } | null> {
    const rt = row.refreshTokenEnc === null ? null : unseal(deps.sealKey, row.refreshTokenEnc, row.id);
    if (rt === null) return null;
    const sub = principal.claims.sub;
    let tokens: Awaited<ReturnType<RelyingParty['refresh']>>;
    try {
      tokens = await deps.rp.refresh(rt, typeof sub === 'string' ? sub : '');
    } catch {
      return null; // refresh refused (user gone, grant revoked, IdP session over): the session ends
    }
    const next = sessionPrincipal(deps.issuer, tokens.claims, principal.authenticatedAt);
    if (next === null || next.id !== principal.id) return null;
    const refreshTokenEnc = tokens.refreshToken === null ? row.refreshTokenEnc : seal(deps.sealKey, tokens.refreshToken, row.id);
    return { principal: next, refreshTokenEnc, idToken: tokens.idToken };
  }

  /** Refreshes the session of `start` once across every instance, or waits for the instance that does. */
  async function refreshShared(start: SessionRow): Promise<Refreshed> {
    const deadline = now().getTime() + leaseMs + 2000;
    let row: SessionRow | undefined = start;
    while (row !== undefined) {
      const at = now();
      if (row.endedAt !== null || row.expiresAt <= at) return { kind: 'ended' };
      // Another instance finished a refresh since this request read the row: its result is ours.
      if (row.refreshGeneration !== start.refreshGeneration) return { kind: 'ok', row, principal: principalFromJson(row.principal) };
      const generation = row.refreshGeneration;
      if (await deps.store.claimRefresh(row.id, generation, new Date(at.getTime() + leaseMs), at)) {
        const next = await callIdp(row, principalFromJson(row.principal));
        if (next === null) {
          await deps.store.endAtGeneration(row.id, generation, now());
          return { kind: 'ended' };
        }
        const patch = { principal: next.principal, refreshTokenEnc: next.refreshTokenEnc, groupsRefreshedAt: now() };
        const written = await deps.store.completeRefresh(row.id, generation, next.idToken === null ? patch : { ...patch, idTokenHint: next.idToken });
        if (written !== undefined) return { kind: 'ok', row: written, principal: next.principal };
        // The lease ran out and another instance refreshed meanwhile: re-read below.
      } else if (now().getTime() > deadline) {
        return { kind: 'busy' };
      } else {
        await new Promise((r) => setTimeout(r, REFRESH_POLL_MS));
      }
      row = await deps.store.findById(start.id);
    }
    return { kind: 'ended' };
  }

  async function lookup(cookieValue: string): Promise<{ row: SessionRow; principal: Principal } | null> {
    if (!COOKIE_VALUE.test(cookieValue)) return null;
    const row = await deps.store.find(cookieValue);
    const at = now();
    if (row === undefined || row.endedAt !== null || row.expiresAt <= at) return null;
    if (at.getTime() - row.groupsRefreshedAt.getTime() < deps.sessions.groups_refresh_seconds * 1000)
      return { row, principal: principalFromJson(row.principal) };
    // One refresh per session at a time in this instance; refreshShared keeps it to one across instances.
    let p = inflight.get(row.id);
    if (p === undefined) {
      p = refreshShared(row).finally(() => inflight.delete(row.id));
      inflight.set(row.id, p);
    }
    const r = await p;
    // `busy`: another instance holds the lease past every bound; refused now, not ended (it may yet succeed).
    return r.kind === 'ok' ? { row: r.row, principal: r.principal } : null;
  }

  const ended: AuthResult = { kind: 'fail', code: 'session_expired', detail: 'The session has ended; log in again.' };

  return {
    name: 'session',
    lookup,
    detects: (input) => readCookie(input.headers, deps.cookieName).length > 0,
    async authenticate(input) {
      const values = readCookie(input.headers, deps.cookieName);
      if (values.length === 0) return { kind: 'skip' };
      // Two cookies of one name: cookie tossing from a sibling host; refuse rather than guess.
      if (values.length > 1) return { kind: 'fail', code: 'invalid_request', detail: 'Send exactly one session cookie.' };
      const live = await lookup(values[0] as string);
      if (live === null) return ended;
      if (!SAFE_METHODS.has(input.method)) {
        const problem = csrfProblem(input, deps.origin, live.row.csrfToken);
        if (problem !== null)
          return {
            kind: 'fail',
            code: 'csrf_failed',
            detail: 'Cross-site request refused: send X-CSRF-Token from /gateway/whoami.',
            cause: new Error(problem),
          };
      }
      return { kind: 'ok', principal: live.principal };
    },
  };
}
