// The dashboard web UI's login dance, answered by the gateway for browser sessions (docs/dashboard-ui.md):
// the UI asks `POST api/auth/check` whether it is logged in, and `POST api/auth/logout` to end the
// session. For a signed-in person the check answers with their name and the permissions they can use,
// and sets the XSRF-TOKEN cookie Angular copies into X-XSRF-TOKEN on every change; without a session
// it answers a login_url at the identity provider, never Ceph's own password form. The UI's JS error
// reports are answered here too and logged by the gateway: never forwarded (they would write any text
// into the mgr's log).

import { GatewayError } from '../../core/errors.ts';
import { type Exchange, type LocalAnswer, sendJson } from '../../core/exchange.ts';
import type { Logger } from '../../core/logger.ts';
import type { Principal } from '../../core/principal.ts';
import { readRequestBody } from '../../intake/body.ts';
import { readCookie } from '../credentials.ts';
import { type BrowserLogin, loginUrl } from './login.ts';
import { csrfProblem } from './session-auth.ts';

export interface DashboardUiDeps {
  readonly login: BrowserLogin;
  /** Clusters whose web UI is served through the gateway. */
  readonly clusters: ReadonlySet<string>;
  /** The Ceph permissions the UI is told about (policy/ui-permissions.ts). */
  permissionsFor(principal: Principal, cluster: string): Promise<Record<string, string[]>>;
  readonly log: Logger;
  readonly bodyTimeoutMs: number;
}

/** Where a cluster's UI lives: `/` for the default cluster, `/clusters/<name>/` for the others. */
const uiRoot = (x: Exchange): string => (x.state.target.cluster === null ? '/' : `/clusters/${x.state.target.cluster}/`);

const MAX_JS_ERROR_BODY = 16384;

export function createDashboardUiAnswers(d: DashboardUiDeps): Map<string, LocalAnswer> {
  const { cookies } = d.login;

  /** The live session of the request's one session cookie, or null (no cookie: not a browser session). */
  async function session(x: Exchange) {
    const values = readCookie(x.state.headers, cookies.sessionName);
    if (values.length === 0) return null;
    if (values.length > 1) throw new GatewayError(400, 'invalid_request', 'Send exactly one session cookie.');
    return { cookie: values[0] as string, live: await d.login.authenticator.lookup(values[0] as string) };
  }

  /** A credential other than a session cookie (a Ceph-native gateway token in the body, query or header): not ours. */
  const otherCredential = (x: Exchange) => x.state.headers.has('authorization') || x.state.target.query.token !== undefined;

  const check: LocalAnswer = async (x, route) => {
    if (!d.clusters.has(route.cluster) || otherCredential(x)) return false;
    const s = await session(x);
    if (s?.live) {
      const p = s.live.principal;
      x.state.principal = p;
      const permissions = await d.permissionsFor(p, route.cluster);
      const answer = { username: p.name, permissions, sso: true, pwdUpdateRequired: false, pwdExpirationDate: null };
      sendJson(x, 200, answer, { headers: { 'set-cookie': [cookies.xsrf(s.live.row.csrfToken)] } });
      return true;
    }
    // Not signed in (or the session ended): the UI follows a login_url other than `#/login` at once.
    sendJson(x, 200, { login_url: loginUrl(uiRoot(x)), cluster_status: 'POST_INSTALLED' });
    return true;
  };

  const logout: LocalAnswer = async (x, route) => {
    if (!d.clusters.has(route.cluster)) return false;
    const s = await session(x);
    if (s === null) return false;
    // Ending a session is a change: the same CSRF defence as every cookie-authenticated mutation.
    if (s.live) {
      const problem = csrfProblem(
        { method: 'POST', headers: x.state.headers, target: x.state.target, clientIp: x.state.clientIp },
        cookies.origin,
        s.live.row.csrfToken,
      );
      if (problem !== null) throw new GatewayError(403, 'csrf_failed', 'Cross-site logout refused.', { cause: new Error(problem) });
      x.state.principal = s.live.principal;
    }
    const done = await d.login.logout(s.cookie, uiRoot(x));
    sendJson(x, 200, { redirect_url: done.redirect }, { headers: { 'set-cookie': [done.setCookie, cookies.clear(cookies.xsrfName)] } });
    return true;
  };

  const jsError: LocalAnswer = async (x, route) => {
    if (!d.clusters.has(route.cluster)) return false;
    const s = await session(x);
    if (!s?.live) return false;
    const body = await readRequestBody(x.body, x.state.headers, 'POST', { maxBytes: MAX_JS_ERROR_BODY, timeoutMs: d.bodyTimeoutMs });
    let report: Record<string, unknown> = {};
    try {
      report = JSON.parse(body?.toString('utf8') ?? '{}') as Record<string, unknown>;
    } catch {
      // not JSON: logged as missing fields
    }
    const text = (v: unknown) => (typeof v === 'string' ? v.slice(0, 500) : undefined);
    d.log.info({ principal: s.live.principal.id, url: text(report.url), message: text(report.message) }, 'dashboard UI reported a JavaScript error');
    sendJson(x, 200, null);
    return true;
  };

  return new Map([
    ['Auth.check', check],
    ['Auth.logout', logout],
    ['FrontendLogging.jsError', jsError],
  ]);
}
