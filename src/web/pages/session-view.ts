// The browser session behind a page request: when it ends, and its CSRF token for the page's forms.
// The session authenticator has already accepted the request's one session cookie; this finds that
// cookie's row again in the sessions table (by the sha-256 of its value, as the session store does),
// without needing the configured cookie name: the row must be live and belong to the same principal.

import { COOKIE_VALUE } from '../../auth/browser/cookies.ts';
import { createBrowserSessionStore, principalFromJson } from '../../auth/browser/session-store.ts';
import type { RequestHeaders } from '../../core/http.ts';
import type { Principal } from '../../core/principal.ts';
import type { Db } from '../../db/database.ts';

export interface SessionInfo {
  readonly expiresAt: Date;
  readonly createdAt: Date;
  readonly csrfToken: string;
}

export type SessionView = (headers: RequestHeaders, principal: Principal) => Promise<SessionInfo | null>;

/** A browser carries a handful of cookies for this host; more are not looked up. */
const MAX_CANDIDATES = 8;

function cookieValues(headers: RequestHeaders): string[] {
  const out: string[] = [];
  for (const header of headers.get('cookie') ?? []) {
    for (const pair of header.split(';')) {
      const eq = pair.indexOf('=');
      const value = eq < 0 ? '' : pair.slice(eq + 1).trim();
      if (COOKIE_VALUE.test(value) && out.length < MAX_CANDIDATES) out.push(value);
    }
  }
  return out;
}

export function createSessionView(db: Db, now: () => Date): SessionView {
  const store = createBrowserSessionStore(db);
  return async function sessionOf(headers, principal) {
    if (principal.method !== 'session') return null;
    const at = now();
    for (const value of cookieValues(headers)) {
      const row = await store.find(value);
      if (row === undefined || row.endedAt !== null || row.expiresAt <= at) continue;
      if (principalFromJson(row.principal).id !== principal.id) continue;
      return { expiresAt: row.expiresAt, createdAt: row.createdAt, csrfToken: row.csrfToken };
    }
    return null;
  };
}
