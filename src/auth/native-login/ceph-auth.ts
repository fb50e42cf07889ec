// The three Ceph auth calls behind a native login (login, logout, check), made on the cluster's active mgr
// with Accept v1.0 (Auth is 1.0 in every release). Network calls apart from the pure answer checks.

import type { ClusterRuntime, ForwardFn } from '../../ceph/cluster-runtime.ts';
import { loginExchange, readCapped } from '../../ceph/cluster-runtime.ts';
import { isStandbyAnswer } from '../../ceph/request-prep.ts';
import { cephMediaType } from '../../ceph/versions.ts';

/** Ceph's login answer minus the token (docs/ceph-facts.md: 201 {token, username, permissions, pwdExpirationDate, sso, pwdUpdateRequired}). */
export interface CephLoginAnswer {
  readonly token: string;
  readonly username: string;
  readonly permissions: Readonly<Record<string, readonly string[]>>;
  readonly pwdExpirationDate: number | null;
  readonly sso: boolean;
  readonly pwdUpdateRequired: boolean;
}

export type LoginVerdict =
  | { readonly kind: 'ok'; readonly answer: CephLoginAnswer }
  /** Ceph counted a failed attempt (wrong password, unknown or disabled user). */
  | { readonly kind: 'invalid' }
  /** No verdict on the password: Ceph unreachable, changing mgr, or an unexpected answer. */
  | { readonly kind: 'unavailable'; readonly cause: string };

export type CheckVerdict =
  | { readonly kind: 'valid'; readonly body: Record<string, unknown> }
  /** Ceph's own answer for an invalid token, e.g. {"login_url": "#/login", "cluster_status": "POST_INSTALLED"}. */
  | { readonly kind: 'invalid'; readonly body: Record<string, unknown> }
  | { readonly kind: 'unavailable'; readonly cause: string };

const asObject = (text: string): Record<string, unknown> | null => {
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
};

/** Reads Ceph's answer to `POST /api/auth` (pure: unit-tested on canned answers). */
export function interpretLogin(status: number, text: string): LoginVerdict {
  const body = asObject(text);
  if (status === 200 || status === 201) {
    if (body === null || typeof body.token !== 'string' || body.token === '' || typeof body.username !== 'string') {
      return { kind: 'unavailable', cause: `login answer ${status} without token` };
    }
    const perms = typeof body.permissions === 'object' && body.permissions !== null ? (body.permissions as Record<string, readonly string[]>) : {};
    return {
      kind: 'ok',
      answer: {
        token: body.token,
        username: body.username,
        permissions: perms,
        pwdExpirationDate: typeof body.pwdExpirationDate === 'number' ? body.pwdExpirationDate : null,
        sso: body.sso === true,
        pwdUpdateRequired: body.pwdUpdateRequired === true,
      },
    };
  }
  // Only Ceph's own refusal counts as a failed attempt; a cherrypy 400 (bad JSON) never reached the check.
  if (status === 400 && body?.code === 'invalid_credentials') return { kind: 'invalid' };
  return { kind: 'unavailable', cause: `login answered ${status}` };
}

/** Reads Ceph's answer to `POST /api/auth/check`: 200 with `username` for a valid token, `login_url` otherwise. */
export function interpretCheck(status: number, text: string): CheckVerdict {
  const body = asObject(text);
  if ((status === 200 || status === 201) && body !== null) {
    if (typeof body.username === 'string') return { kind: 'valid', body };
    if ('login_url' in body) return { kind: 'invalid', body };
  }
  if (status === 401) return { kind: 'invalid', body: { login_url: '#/login' } };
  return { kind: 'unavailable', cause: `check answered ${status}` };
}

export interface CephAuth {
  login(rt: ClusterRuntime, username: string, password: string): Promise<LoginVerdict>;
  /** Block-lists the user's Ceph token (best effort: it expires on its own anyway). */
  logout(rt: ClusterRuntime, cephToken: string): Promise<{ status: number } | { error: string }>;
  check(rt: ClusterRuntime, cephToken: string): Promise<CheckVerdict>;
}

async function postWithToken(
  rt: ClusterRuntime,
  forward: ForwardFn,
  path: string,
  cephToken: string,
  body: string | null,
): Promise<{ status: number; text: string }> {
  const origin = await rt.pool.active();
  const bytes = body === null ? null : Buffer.from(body);
  const res = await forward({
    dispatcher: rt.dispatcher,
    origin,
    method: 'POST',
    path,
    headers: {
      accept: cephMediaType('1.0'),
      authorization: `Bearer ${cephToken}`,
      // A body-less POST needs Content-Length: 0 or cherrypy answers 411 (docs/ceph-facts.md).
      'content-length': String(bytes?.length ?? 0),
      ...(bytes === null ? {} : { 'content-type': 'application/json' }),
    },
    body: bytes,
    headersTimeoutMs: rt.config.timeouts.headers_ms,
    bodyTimeoutMs: rt.config.timeouts.body_ms,
  });
  const text = (await readCapped(res.body)).toString('utf8');
  if (isStandbyAnswer(path, res.status, res.headers)) {
    rt.pool.markDown(origin, `${path} answered ${res.status} (standby)`);
    throw new Error('the Ceph mgr is changing over');
  }
  return { status: res.status, text };
}

const message = (err: unknown): string => (err instanceof Error ? err.message : String(err));

export function createCephAuth(forward: ForwardFn): CephAuth {
  return {
    async login(rt, username, password) {
      // Exactly these two fields: never `ttl` (Pacific answers 500; the lifetime is Ceph's to decide).
      const body = JSON.stringify({ username, password });
      try {
        const res = await loginExchange(rt, forward, body);
        return interpretLogin(res.status, res.body);
      } catch (err) {
        return { kind: 'unavailable', cause: message(err) };
      }
    },
    async logout(rt, cephToken) {
      try {
        return { status: (await postWithToken(rt, forward, '/api/auth/logout', cephToken, null)).status };
      } catch (err) {
        return { error: message(err) };
      }
    },
    async check(rt, cephToken) {
      try {
        // Ceph's check reads the token from its arguments (query or JSON body), not from the header.
        const res = await postWithToken(rt, forward, '/api/auth/check', cephToken, JSON.stringify({ token: cephToken }));
        return interpretCheck(res.status, res.text);
      } catch (err) {
        return { kind: 'unavailable', cause: message(err) };
      }
    },
  };
}
