// Ceph's own auth endpoints served by the gateway for Ceph-native logins: `POST /api/auth`, `/api/auth/logout`
// and `/api/auth/check` (and `/clusters/<name>/...`), answering in Ceph's shapes with gateway-issued tokens.

import type { Context, Next } from 'hono';
import { Hono } from 'hono';
import { v7 as uuidv7 } from 'uuid';
import { readAuthorization } from '../../auth/credentials.ts';
import { firstHeader } from '../../intake/headers.ts';
import type { AuditIntent, AuditSink, HttpMethod, Principal, RequestTarget, RouteMatch } from '../../pipeline/types.ts';
import type { AppEnv, RequestState } from '../../server/env.ts';
import { auditUnavailable, GatewayError } from '../../server/errors.ts';
import type { ClusterRuntime } from '../cluster-runtime.ts';
import type { Logger } from '../tokens.ts';
import { cephMediaType, clientVersion } from '../versions.ts';
import type { NativeAuth } from './authenticator.ts';
import type { CephAuth } from './ceph-auth.ts';
import type { NativeLoginConfig } from './config.ts';
import type { LoginLimiter } from './limiter.ts';
import { isNativeToken, type SessionStore } from './sessions.ts';

export interface NativeRoutesDeps {
  readonly clusters: ReadonlyMap<string, NativeLoginConfig>;
  readonly defaultCluster: string;
  /** Every configured cluster (an unknown name is a 404, a disabled one falls through to the pipeline). */
  readonly runtime: (cluster: string) => ClusterRuntime | undefined;
  readonly cephAuth: CephAuth;
  readonly sessions: SessionStore;
  readonly limiters: ReadonlyMap<string, LoginLimiter>;
  readonly auth: NativeAuth;
  readonly audit: AuditSink;
  readonly log: Logger;
  readonly now: () => Date;
  readonly matchRoute?: (method: HttpMethod, target: RequestTarget) => RouteMatch;
}

const MAX_LOGIN_BODY = 8192;
const INVALID_CREDENTIALS = { detail: 'Invalid credentials', code: 'invalid_credentials', component: 'auth' };

/** Ceph answers its own media type to a Ceph client and errors as plain JSON; plain-JSON clients get JSON. */
function contentType(state: RequestState): string {
  const v = clientVersion(firstHeader(state.headers, 'accept') ?? null);
  if (v !== null && !v.startsWith('1.')) throw new GatewayError(415, 'unsupported_media_type', `Incorrect version: endpoint is '1.0', client requested '${v}'`);
  return v === null ? 'application/json' : cephMediaType('1.0');
}

const json = (status: number, body: unknown, type: string) =>
  new Response(JSON.stringify(body), { status, headers: { 'Content-Type': type, 'Cache-Control': 'no-store' } });

async function readJson(c: Context<AppEnv>): Promise<Record<string, unknown> | null> {
  const cl = Number(c.req.header('content-length') ?? '0');
  if (cl > MAX_LOGIN_BODY) throw new GatewayError(413, 'body_too_large', `login bodies are limited to ${MAX_LOGIN_BODY} bytes`);
  const text = await c.req.text();
  if (text.length > MAX_LOGIN_BODY) throw new GatewayError(413, 'body_too_large', `login bodies are limited to ${MAX_LOGIN_BODY} bytes`);
  if (text.trim() === '') return null;
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    throw new GatewayError(400, 'bad_request', 'The request body is not valid JSON.');
  }
}

export function createNativeLoginRoutes(d: NativeRoutesDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  /** The cluster of the request, or null when native login is off there (the pipeline then decides). */
  function clusterOf(state: RequestState): string | null {
    const name = state.target.cluster ?? d.defaultCluster;
    if (d.runtime(name) === undefined) throw new GatewayError(404, 'not_found', `No cluster named ${JSON.stringify(name)}.`);
    return d.clusters.get(name)?.enabled === true ? name : null;
  }

  function routeOf(state: RequestState, cluster: string, template: string): RouteMatch {
    try {
      if (d.matchRoute) return d.matchRoute('POST', state.target);
    } catch {
      // The catalogue of every release knows the auth routes; a miss only loses the operation name.
    }
    return { cluster, operation: null, template, params: {} };
  }

  async function intent(state: RequestState, route: RouteMatch, principal: Principal | null, body: unknown, final?: { status: number; code: string }): Promise<string> {
    const id = uuidv7();
    const record: AuditIntent = {
      id, requestId: state.requestId, receivedAt: state.receivedAt, cluster: route.cluster, principal, clientIp: state.clientIp,
      userAgent: firstHeader(state.headers, 'user-agent') ?? null, method: 'POST',
      // Never the raw target: `?token=` on check/logout must not end up in the audit log.
      rawPath: state.target.rawPath, route, query: {}, body, decision: null,
      ...(final ? { finalStatus: final.status, errorCode: final.code } : {}),
    };
    try {
      await (final ? d.audit.recordRefusal(record) : d.audit.recordIntent(record));
    } catch (err) {
      throw auditUnavailable('The audit log cannot record this request, so it was not forwarded.', err);
    }
    return id;
  }

  async function outcome(id: string, forwardedAt: Date, upstreamStatus: number | null, status: number, cephCode: string | null, errorCode: string | null): Promise<void> {
    try {
      await d.audit.recordOutcome(id, { forwardedAt, completedAt: d.now(), upstreamStatus, status, cephErrorDetail: null, cephErrorCode: cephCode, cephTask: null, errorCode });
    } catch (err) {
      d.log.error({ err, audit_id: id }, 'audit outcome of a native login could not be written');
    }
  }

  async function login(c: Context<AppEnv>, next: Next) {
    const state = c.get('state');
    const cluster = clusterOf(state);
    if (cluster === null) return next();
    const cfg = d.clusters.get(cluster) as NativeLoginConfig;
    const rt = d.runtime(cluster) as ClusterRuntime;
    const type = contentType(state);
    const body = await readJson(c);
    const username = body?.username;
    const password = body?.password;
    if (typeof username !== 'string' || username === '' || typeof password !== 'string' || password === '') {
      throw new GatewayError(400, 'bad_request', 'Send {"username": ..., "password": ...} as JSON.');
    }
    // `ttl` and any other field are dropped: the gateway decides the token lifetime (token_ttl_seconds).
    const route = routeOf(state, cluster, '/api/auth');
    const audited = { username };
    const limiter = d.limiters.get(cluster);
    const admission = limiter?.admit(`${cluster}/${username}`, state.clientIp) ?? { ok: false as const, reason: 'user' as const, retryAfterS: 60 };
    if (!admission.ok) {
      await intent(state, route, null, audited, { status: 429, code: 'too_many_requests' });
      d.log.warn({ cluster, username, client: state.clientIp, limit: admission.reason }, 'native login refused: too many failures');
      throw new GatewayError(429, 'too_many_requests', 'Too many failed logins; try again later.', {
        headers: { 'Retry-After': String(admission.retryAfterS) },
        extra: { retry_after: admission.retryAfterS },
      });
    }
    const attempt = admission.attempt;
    // The gateway's own service accounts are never logged in to from outside: a guessing client could add
    // to their failure count in Ceph. Answered like a wrong password, without asking Ceph.
    if ([...rt.accounts.values()].some((a) => a.username === username)) {
      attempt.abandoned();
      await intent(state, route, null, audited, { status: 400, code: 'invalid_credentials' });
      d.log.warn({ cluster, username }, 'native login as a gateway service account refused');
      return json(400, INVALID_CREDENTIALS, 'application/json');
    }
    let auditId: string;
    try {
      auditId = await intent(state, route, null, audited);
    } catch (err) {
      attempt.abandoned();
      throw err;
    }
    const forwardedAt = d.now();
    const verdict = await d.cephAuth.login(rt, username, password);
    if (verdict.kind === 'invalid') {
      attempt.failed();
      await outcome(auditId, forwardedAt, 400, 400, 'invalid_credentials', null);
      return json(400, INVALID_CREDENTIALS, 'application/json');
    }
    if (verdict.kind === 'unavailable') {
      attempt.abandoned();
      await outcome(auditId, forwardedAt, null, 503, null, 'ceph_unavailable');
      throw new GatewayError(503, 'ceph_unavailable', `Ceph cluster ${cluster} cannot check the password right now.`, {
        cause: new Error(verdict.cause), headers: { 'Retry-After': '2' }, extra: { retry_after: 2 },
      });
    }
    attempt.succeeded();
    const a = verdict.answer;
    const { token, session } = d.sessions.create(
      { cluster, username: a.username, cephToken: a.token, permissions: a.permissions, pwdExpirationDate: a.pwdExpirationDate, sso: a.sso, pwdUpdateRequired: a.pwdUpdateRequired },
      cfg.token_ttl_seconds * 1000,
    );
    await outcome(auditId, forwardedAt, 201, 201, null, null);
    d.log.info({ cluster, username: a.username, session: session.id, expires: new Date(session.expiresAt).toISOString() }, 'native login');
    return json(201, { token, username: a.username, permissions: a.permissions, pwdExpirationDate: a.pwdExpirationDate, sso: a.sso, pwdUpdateRequired: a.pwdUpdateRequired }, type);
  }

  async function logout(c: Context<AppEnv>, next: Next) {
    const state = c.get('state');
    const auth = readAuthorization({ method: 'POST', headers: state.headers, target: state.target, clientIp: state.clientIp });
    if (auth.kind !== 'bearer' || !isNativeToken(auth.token)) return next();
    const cluster = clusterOf(state);
    if (cluster === null) return next();
    const type = contentType(state);
    const input = { method: 'POST' as const, headers: state.headers, target: state.target, clientIp: state.clientIp };
    // Authenticated like any request (same cluster rule), so the audit record names the principal.
    const who = await d.auth.authenticator.authenticate(input);
    const session = who.kind === 'ok' ? d.sessions.revoke(auth.token) : null;
    if (session !== null && who.kind === 'ok') {
      const route = routeOf(state, cluster, '/api/auth/logout');
      state.principal = who.principal;
      const auditId = await intent(state, route, who.principal, null);
      const forwardedAt = d.now();
      // Block-list the user's Ceph token too; the gateway token is already gone whatever Ceph answers.
      const res = await d.cephAuth.logout(d.runtime(cluster) as ClusterRuntime, session.cephToken);
      if ('error' in res) d.log.warn({ cluster, session: session.id, err: res.error }, 'ceph logout failed; the Ceph token lapses at its exp');
      await outcome(auditId, forwardedAt, 'status' in res ? res.status : null, 200, null, null);
      d.log.info({ cluster, username: session.username, session: session.id }, 'native logout');
    }
    // Ceph answers 200 {"redirect_url": "#/login"}; for an unknown token too (where Ceph itself fails with 500).
    return json(200, { redirect_url: '#/login' }, type);
  }

  async function check(c: Context<AppEnv>, next: Next) {
    const state = c.get('state');
    // Decided before the body is read: a consumed body could not be forwarded by the pipeline any more.
    const cluster = clusterOf(state);
    if (cluster === null) return next();
    const type = contentType(state);
    // Ceph reads the token from its arguments (JSON body or query), not from the header; accept all three.
    // Through the gateway the only Ceph-style tokens a client holds are gateway tokens, so every check is ours.
    const body = await readJson(c).catch(() => null);
    const auth = readAuthorization({ method: 'POST', headers: state.headers, target: state.target, clientIp: state.clientIp });
    const candidates = [body?.token, state.target.query.token?.[0], auth.kind === 'bearer' ? auth.token : undefined];
    const token = candidates.find((t): t is string => typeof t === 'string' && t !== '');
    const rt = d.runtime(cluster) as ClusterRuntime;
    const s = token === undefined ? null : d.sessions.get(token);
    if (s !== null && s.cluster === cluster) {
      // Ask Ceph with the user's own token: permissions may have changed, the token may be revoked there.
      const v = await d.cephAuth.check(rt, s.cephToken);
      if (v.kind === 'valid') return json(200, v.body, type);
      if (v.kind === 'unavailable') {
        return json(200, { username: s.username, permissions: s.permissions, sso: s.sso, pwdUpdateRequired: s.pwdUpdateRequired }, type);
      }
      d.sessions.revokeId(s.id);
      return json(200, v.body, type);
    }
    // Never send a client's token upstream: ask Ceph with one it surely refuses, for its own answer.
    const v = await d.cephAuth.check(rt, 'invalid');
    return json(200, v.kind === 'invalid' ? v.body : { login_url: '#/login' }, type);
  }

  for (const prefix of ['', '/clusters/:name']) {
    app.post(`${prefix}/api/auth`, login);
    app.post(`${prefix}/api/auth/logout`, logout);
    app.post(`${prefix}/api/auth/check`, check);
  }
  return app;
}
