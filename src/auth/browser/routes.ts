// Browser login routes: /gateway/login -> IdP -> /gateway/callback -> server-side session; /gateway/logout
// ends it (and the IdP session when it has an end-session endpoint); /gateway/whoami returns the principal.

import { type Context, Hono } from 'hono';
import type { Principal } from '../../pipeline/types.ts';
import { GatewayError } from '../../server/errors.ts';
import type { BrowserLoginConfig, IssuerConfig, SessionsConfig } from '../config.ts';
import { readCookie } from '../credentials.ts';
import type { FetchLike } from '../jwks.ts';
import { cookiePolicy } from './cookies.ts';
import { createRelyingParty, type RelyingParty } from './oidc-client.ts';
import { safeRedirectPath } from './redirect.ts';
import { authInputFromRequest } from './request-input.ts';
import { seal, unseal } from './seal.ts';
import { createSessionAuthenticator, type SessionAuthenticator, sessionPrincipal } from './session-auth.ts';
import { type SessionStore, sessionRowId } from './session-store.ts';

export interface BrowserLoginDeps {
  /** server.public_url: the origin browsers use (redirect URI and cookie scope derive from it). */
  readonly publicUrl: string;
  readonly issuer: IssuerConfig;
  readonly login: BrowserLoginConfig;
  readonly sessions: SessionsConfig;
  /** Resolved secrets (config `*_env` / `*_file`). */
  readonly clientSecret: string;
  readonly encryptionKey: Buffer;
  readonly store: SessionStore;
  readonly fetch?: FetchLike;
  readonly now?: () => Date;
  readonly rp?: RelyingParty;
}

export interface BrowserLogin {
  readonly routes: Hono;
  readonly authenticator: SessionAuthenticator;
}

const LOGIN_AAD = 'cephgate-login-v1';

interface LoginState {
  s: string;
  n: string;
  v: string;
  rd: string;
  exp: number;
}

const badRedirect = () => new GatewayError(400, 'invalid_request', 'The redirect target must be a path on this gateway.');

export function createBrowserLogin(deps: BrowserLoginDeps): BrowserLogin {
  const now = deps.now ?? (() => new Date());
  const base = deps.publicUrl.replace(/\/$/, '');
  const cookies = cookiePolicy(base, deps.sessions.cookie_name);
  const callbackUrl = `${base}/gateway/callback`;
  const rp = deps.rp ?? createRelyingParty(deps.issuer, deps.login, deps.clientSecret, deps.fetch);
  const authenticator = createSessionAuthenticator({
    store: deps.store,
    rp,
    issuer: deps.issuer,
    sessions: deps.sessions,
    cookieName: cookies.sessionName,
    origin: cookies.origin,
    sealKey: deps.encryptionKey,
    now,
  });
  const app = new Hono();
  const cookieOf = (c: Context, name: string): string | null => {
    const v = readCookie(authInputFromRequest(c.req.raw), name);
    return v.length === 1 ? (v[0] as string) : null;
  };
  const noStore = (c: Context) => c.header('Cache-Control', 'no-store');

  app.get('/gateway/login', async (c) => {
    const rdParam = c.req.query('rd');
    const rd = rdParam === undefined ? deps.login.default_redirect_path : safeRedirectPath(rdParam);
    if (rd === null) throw badRedirect();
    let start: Awaited<ReturnType<RelyingParty['start']>>;
    try {
      start = await rp.start(callbackUrl);
    } catch (err) {
      throw new GatewayError(502, 'upstream_unreachable', 'The identity provider is unreachable.', { cause: err });
    }
    const ttl = deps.login.login_timeout_seconds;
    const state: LoginState = { s: start.state, n: start.nonce, v: start.verifier, rd, exp: now().getTime() + ttl * 1000 };
    // state, nonce and the PKCE verifier live only in this sealed cookie: bound to this browser (RFC 6749 10.12).
    c.header('Set-Cookie', cookies.serialize(cookies.loginName, seal(deps.encryptionKey, JSON.stringify(state), LOGIN_AAD), ttl), { append: true });
    noStore(c);
    return c.redirect(start.url.href, 303);
  });

  app.get('/gateway/callback', async (c) => {
    const sealed = cookieOf(c, cookies.loginName);
    const opened = sealed === null ? null : unseal(deps.encryptionKey, sealed, LOGIN_AAD);
    const state = opened === null ? null : (JSON.parse(opened) as LoginState);
    c.header('Set-Cookie', cookies.clear(cookies.loginName), { append: true });
    noStore(c);
    if (state === null || state.exp <= now().getTime()) {
      throw new GatewayError(400, 'invalid_request', 'No login in progress in this browser (or it timed out); start again at /gateway/login.');
    }
    if (c.req.query('error') !== undefined) throw new GatewayError(401, 'unauthenticated', 'The identity provider did not log you in.');
    let principal: Principal | null;
    let tokens: Awaited<ReturnType<RelyingParty['finish']>>;
    try {
      tokens = await rp.finish(new URL(`${callbackUrl}${new URL(c.req.url).search}`), { state: state.s, nonce: state.n, verifier: state.v });
      principal = sessionPrincipal(deps.issuer, tokens.claims, now());
    } catch (err) {
      throw new GatewayError(401, 'invalid_token', 'The login could not be completed.', { cause: err });
    }
    if (principal === null) throw new GatewayError(401, 'invalid_token', 'The login could not be completed.', { cause: new Error('no subject') });
    // Session fixation: a session cookie the browser already had is ended, never reused (new id at login).
    const old = cookieOf(c, cookies.sessionName);
    if (old !== null) await deps.store.end(sessionRowId(old), now());
    const t = now();
    const { cookie } = await deps.store.create(
      { principal, expiresAt: new Date(t.getTime() + deps.sessions.ttl_seconds * 1000), refreshTokenEnc: null, idTokenHint: tokens.idToken, now: t },
      (rowId) => (tokens.refreshToken === null ? null : seal(deps.encryptionKey, tokens.refreshToken, rowId)),
    );
    c.header('Set-Cookie', cookies.serialize(cookies.sessionName, cookie, deps.sessions.ttl_seconds), { append: true });
    return c.redirect(state.rd, 303);
  });

  app.get('/gateway/whoami', async (c, next) => {
    noStore(c);
    const v = cookieOf(c, cookies.sessionName);
    // No session cookie: another credential (bearer, API key) may answer; the gateway's own whoami does.
    if (v === null) return next();
    const live = await authenticator.lookup(v);
    if (live === null) throw new GatewayError(401, 'unauthenticated', 'Not logged in.', { headers: { 'WWW-Authenticate': 'Bearer realm="cephgate"' } });
    const p = live.principal;
    return c.json({ id: p.id, name: p.name, email: p.email, groups: p.groups, method: p.method, authenticated_at: p.authenticatedAt.toISOString(), csrf_token: live.row.csrfToken });
  });

  const logout = async (c: Context) => {
    noStore(c);
    // Logout is a state change: refuse it from other sites (a forced logout is a nuisance, not a breach).
    const site = c.req.header('sec-fetch-site');
    const origin = c.req.header('origin');
    if ((site !== undefined && site !== 'same-origin' && site !== 'none') || (origin !== undefined && origin !== cookies.origin)) {
      throw new GatewayError(403, 'csrf_failed', 'Cross-site logout refused.');
    }
    const rdParam = c.req.query('rd');
    const rd = rdParam === undefined ? deps.login.post_logout_path : safeRedirectPath(rdParam);
    if (rd === null) throw badRedirect();
    const v = cookieOf(c, cookies.sessionName);
    const row = v === null ? undefined : await deps.store.find(v);
    if (row !== undefined) await deps.store.end(row.id, now());
    c.header('Set-Cookie', cookies.clear(cookies.sessionName), { append: true });
    let target: string = rd;
    try {
      const end = await rp.endSessionUrl({ idTokenHint: row?.idTokenHint ?? null, postLogoutRedirectUri: `${base}${deps.login.post_logout_path}` });
      if (end !== null) target = end.href;
    } catch {
      // The IdP is unreachable: the gateway session is over anyway; land locally.
    }
    return c.redirect(target, 303);
  };
  app.get('/gateway/logout', logout);
  app.post('/gateway/logout', logout);

  return { routes: app, authenticator };
}

/** The login routes alone (hono sub-app with full `/gateway/...` paths; mount with `app.route('/', ...)`). */
export const createLoginRoutes = (deps: BrowserLoginDeps): Hono => createBrowserLogin(deps).routes;
