// Browser login, the flow without its HTTP face (web/login.ts serves it): start (-> IdP, login state
// sealed into a cookie bound to this browser), finish at the callback (-> a server-side session),
// logout (-> the session ended, and the IdP session when it has an end-session endpoint).

import type { BrowserLoginConfig, IssuerConfig, SessionsConfig } from '../../config/identity.ts';
import { GatewayError } from '../../core/errors.ts';
import type { Principal } from '../../core/principal.ts';
import type { FetchLike } from '../jwks.ts';
import { type CookiePolicy, cookiePolicy } from './cookies.ts';
import { createRelyingParty, type RelyingParty } from './oidc-client.ts';
import { safeRedirectPath } from './redirect.ts';
import { seal, unseal } from './seal.ts';
import { createSessionAuthenticator, type SessionAuthenticator, sessionPrincipal } from './session-auth.ts';
import { type BrowserSessionStore, sessionRowId } from './session-store.ts';

export interface BrowserLoginDeps {
  /** server.public_url: the origin browsers use (redirect URI and cookie scope derive from it). */
  readonly publicUrl: string;
  readonly issuer: IssuerConfig;
  readonly login: BrowserLoginConfig;
  readonly sessions: SessionsConfig;
  /** Resolved secrets (config `*_env` / `*_file`). */
  readonly clientSecret: string;
  readonly encryptionKey: Buffer;
  readonly store: BrowserSessionStore;
  readonly fetch?: FetchLike;
  readonly now?: () => Date;
  readonly rp?: RelyingParty;
}

export interface BrowserLogin {
  readonly authenticator: SessionAuthenticator;
  readonly cookies: CookiePolicy;
  /** Starts a login that returns to `rd` (a same-origin path; default login.default_redirect_path). */
  start(rd: string | undefined): Promise<{ readonly redirect: string; readonly setCookie: string }>;
  /**
   * Finishes a login at /gateway/callback: `search` is the callback's query (`?code=...&state=...`), the
   * login cookie the one `start` set. A session cookie the browser already had is ended, never reused.
   */
  finish(
    search: string,
    loginCookie: string | null,
    oldSessionCookie: string | null,
  ): Promise<{ readonly redirect: string; readonly setCookies: readonly string[] }>;
  /** Ends the session of a cookie, and where the browser goes next (the IdP's end-session URL, else `rd`). */
  logout(sessionCookie: string | null, rd: string | undefined): Promise<{ readonly redirect: string; readonly setCookie: string }>;
}

const LOGIN_AAD = 'cephgate-login-v1';

/** Where a browser starts a login; `?rd=<same-origin path>` says where it returns to. */
export const LOGIN_PATH = '/gateway/login';
export const loginUrl = (rd: string): string => `${LOGIN_PATH}?rd=${encodeURIComponent(rd)}`;

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

  return {
    authenticator,
    cookies,
    async start(rdParam) {
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
      return { redirect: start.url.href, setCookie: cookies.serialize(cookies.loginName, seal(deps.encryptionKey, JSON.stringify(state), LOGIN_AAD), ttl) };
    },

    async finish(search, loginCookie, oldSessionCookie) {
      const opened = loginCookie === null ? null : unseal(deps.encryptionKey, loginCookie, LOGIN_AAD);
      const state = opened === null ? null : (JSON.parse(opened) as LoginState);
      if (state === null || state.exp <= now().getTime()) {
        throw new GatewayError(400, 'invalid_request', 'No login in progress in this browser (or it timed out); start again at /gateway/login.');
      }
      if (new URLSearchParams(search).has('error')) throw new GatewayError(401, 'unauthenticated', 'The identity provider did not log you in.');
      let principal: Principal | null;
      let tokens: Awaited<ReturnType<RelyingParty['finish']>>;
      try {
        tokens = await rp.finish(new URL(`${callbackUrl}${search}`), { state: state.s, nonce: state.n, verifier: state.v });
        principal = sessionPrincipal(deps.issuer, tokens.claims, now());
      } catch (err) {
        throw new GatewayError(401, 'invalid_token', 'The login could not be completed.', { cause: err });
      }
      if (principal === null) throw new GatewayError(401, 'invalid_token', 'The login could not be completed.', { cause: new Error('no subject') });
      // Session fixation: a session cookie the browser already had is ended, never reused (new id at login).
      if (oldSessionCookie !== null) await deps.store.end(sessionRowId(oldSessionCookie), now());
      const t = now();
      const { cookie } = await deps.store.create(
        { principal, expiresAt: new Date(t.getTime() + deps.sessions.ttl_seconds * 1000), refreshTokenEnc: null, idTokenHint: tokens.idToken, now: t },
        (rowId) => (tokens.refreshToken === null ? null : seal(deps.encryptionKey, tokens.refreshToken, rowId)),
      );
      return { redirect: state.rd, setCookies: [cookies.clear(cookies.loginName), cookies.serialize(cookies.sessionName, cookie, deps.sessions.ttl_seconds)] };
    },

    async logout(sessionCookie, rdParam) {
      const rd = rdParam === undefined ? deps.login.post_logout_path : safeRedirectPath(rdParam);
      if (rd === null) throw badRedirect();
      const row = sessionCookie === null ? undefined : await deps.store.find(sessionCookie);
      if (row !== undefined) await deps.store.end(row.id, now());
      let redirect: string = rd;
      try {
        const end = await rp.endSessionUrl({ idTokenHint: row?.idTokenHint ?? null, postLogoutRedirectUri: `${base}${deps.login.post_logout_path}` });
        if (end !== null) redirect = end.href;
      } catch {
        // The IdP is unreachable: the gateway session is over anyway; land locally.
      }
      return { redirect, setCookie: cookies.clear(cookies.sessionName) };
    },
  };
}
