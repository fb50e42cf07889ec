// The browser login's HTTP face: /gateway/login -> IdP -> /gateway/callback -> session cookie;
// /gateway/logout ends it; /gateway/whoami answers a session with its principal and CSRF token.
// The flow itself is auth/browser/login.ts.

import { type Context, Hono } from 'hono';
import type { BrowserLogin } from '../auth/browser/login.ts';
import { challenge } from '../auth/chain.ts';
import { readCookie } from '../auth/credentials.ts';
import { GatewayError } from '../core/errors.ts';
import type { AppEnv } from './env.ts';

export function createLoginRoutes(login: BrowserLogin): Hono<AppEnv> {
  const { cookies } = login;
  const app = new Hono<AppEnv>();
  /** The one value of a cookie, or null when absent or repeated (cookie tossing). */
  const cookieOf = (c: Context<AppEnv>, name: string): string | null => {
    const v = readCookie(c.get('state').headers, name);
    return v.length === 1 ? (v[0] as string) : null;
  };
  const search = (c: Context<AppEnv>) => {
    const raw = c.get('state').target.raw;
    const q = raw.indexOf('?');
    return q === -1 ? '' : raw.slice(q);
  };
  app.get('/gateway/login', async (c) => {
    const started = await login.start(c.req.query('rd'));
    c.header('Set-Cookie', started.setCookie, { append: true });
    return c.redirect(started.redirect, 303);
  });

  app.get('/gateway/callback', async (c) => {
    const loginCookie = cookieOf(c, cookies.loginName);
    try {
      const done = await login.finish(search(c), loginCookie, cookieOf(c, cookies.sessionName));
      for (const cookie of done.setCookies) c.header('Set-Cookie', cookie, { append: true });
      return c.redirect(done.redirect, 303);
    } catch (err) {
      // A failed or replayed callback never leaves its login state behind.
      c.header('Set-Cookie', cookies.clear(cookies.loginName), { append: true });
      throw err;
    }
  });

  app.get('/gateway/whoami', async (c, next) => {
    const v = cookieOf(c, cookies.sessionName);
    // No session cookie: another credential (bearer, API key) may answer; the gateway's own whoami does.
    if (v === null) return next();
    const live = await login.authenticator.lookup(v);
    if (live === null) throw new GatewayError(401, 'unauthenticated', 'Not logged in.', { headers: challenge() });
    const p = live.principal;
    return c.json({
      id: p.id,
      name: p.name,
      email: p.email,
      groups: p.groups,
      method: p.method,
      authenticated_at: p.authenticatedAt.toISOString(),
      csrf_token: live.row.csrfToken,
    });
  });

  const logout = async (c: Context<AppEnv>) => {
    // Logout is a state change: refuse it from other sites (a forced logout is a nuisance, not a breach).
    const site = c.req.header('sec-fetch-site');
    const origin = c.req.header('origin');
    if ((site !== undefined && site !== 'same-origin' && site !== 'none') || (origin !== undefined && origin !== cookies.origin)) {
      throw new GatewayError(403, 'csrf_failed', 'Cross-site logout refused.');
    }
    const done = await login.logout(cookieOf(c, cookies.sessionName), c.req.query('rd'));
    c.header('Set-Cookie', done.setCookie, { append: true });
    return c.redirect(done.redirect, 303);
  };
  app.get('/gateway/logout', logout);
  app.post('/gateway/logout', logout);
  return app;
}
