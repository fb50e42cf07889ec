// Ceph's own auth endpoints answered by the gateway for Ceph-native logins: `POST /api/auth`,
// `/api/auth/logout` and `/api/auth/check` (and `/clusters/<name>/...`), in Ceph's shapes with
// gateway-issued tokens. They are local answers of the pipeline (core/exchange.ts): a request that is
// not a native login's (another credential, a cluster without native login) goes on through it.

import { v7 as uuidv7 } from 'uuid';
import { intentOf } from '../../audit/intent.ts';
import type { ClusterRuntime } from '../../ceph/cluster-runtime.ts';
import { cephMediaType, clientVersion } from '../../ceph/versions.ts';
import type { NativeLoginConfig } from '../../config/native-login.ts';
import type { AuditSink } from '../../core/audit.ts';
import type { RouteMatch } from '../../core/catalogue.ts';
import { auditUnavailable, GatewayError } from '../../core/errors.ts';
import { type Exchange, type LocalAnswer, sendJson } from '../../core/exchange.ts';
import type { Logger } from '../../core/logger.ts';
import type { RequestState } from '../../core/request-state.ts';
import { readRequestBody } from '../../intake/body.ts';
import { readAuthorization } from '../credentials.ts';
import type { NativeAuth } from './authenticator.ts';
import type { CephAuth } from './ceph-auth.ts';
import type { Admission, LoginLimiter } from './limiter.ts';
import { isNativeToken, type NativeSessionStore } from './sessions.ts';

export interface NativeAnswersDeps {
  readonly clusters: ReadonlyMap<string, NativeLoginConfig>;
  /** Every configured cluster's runtime (the active mgr, the service accounts). */
  readonly runtime: (cluster: string) => ClusterRuntime | undefined;
  readonly cephAuth: CephAuth;
  readonly sessions: NativeSessionStore;
  readonly limiters: ReadonlyMap<string, LoginLimiter>;
  readonly auth: NativeAuth;
  readonly audit: AuditSink;
  readonly log: Logger;
  readonly now: () => Date;
  readonly bodyTimeoutMs: number;
}

const MAX_LOGIN_BODY = 8192;
const INVALID_CREDENTIALS = { detail: 'Invalid credentials', code: 'invalid_credentials', component: 'auth' };

/** Ceph answers its own media type to a Ceph client and errors as plain JSON; plain-JSON clients get JSON. */
function contentType(state: RequestState): string {
  const v = clientVersion(state.headers.get('accept')?.[0] ?? null);
  if (v !== null && !v.startsWith('1.')) throw new GatewayError(415, 'unsupported_media_type', `Incorrect version: endpoint is '1.0', client requested '${v}'`);
  return v === null ? 'application/json' : cephMediaType('1.0');
}

async function readJson(x: Exchange, timeoutMs: number): Promise<Record<string, unknown> | null> {
  const body = await readRequestBody(x.body, x.state.headers, 'POST', { maxBytes: MAX_LOGIN_BODY, timeoutMs });
  const text = body?.toString('utf8') ?? '';
  if (text.trim() === '') return null;
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    throw new GatewayError(400, 'bad_request', 'The request body is not valid JSON.');
  }
}

/** The local answers for `Auth.create`, `Auth.logout` and `Auth.check`, by operation id. */
export function createNativeLoginAnswers(d: NativeAnswersDeps): Map<string, LocalAnswer> {
  return new Map<string, LocalAnswer>([
    ['Auth.create', (x, route) => login(d, x, route)],
    ['Auth.logout', (x, route) => logout(d, x, route)],
    ['Auth.check', (x, route) => check(d, x, route)],
  ]);
}

/** The cluster of the request when native login is on there, else null (the pipeline decides). */
const enabledCluster = (d: NativeAnswersDeps, route: RouteMatch): string | null => (d.clusters.get(route.cluster)?.enabled === true ? route.cluster : null);

async function intent(d: NativeAnswersDeps, state: RequestState, body: unknown, final?: { status: number; code: string }): Promise<string> {
  const id = uuidv7();
  // Never the raw target: `?token=` on check/logout must not end up in the audit log.
  const record = intentOf(state, { id, method: 'POST', body, pathOnly: true, ...(final ? { final } : {}) });
  try {
    await (final ? d.audit.recordRefusal(record) : d.audit.recordIntent(record));
  } catch (err) {
    throw auditUnavailable('The audit log cannot record this request, so it was not forwarded.', err);
  }
  return id;
}

async function outcome(
  d: NativeAnswersDeps,
  id: string,
  forwardedAt: Date,
  upstreamStatus: number | null,
  status: number,
  cephCode: string | null,
  errorCode: string | null,
): Promise<void> {
  try {
    await d.audit.recordOutcome(id, {
      forwardedAt,
      completedAt: d.now(),
      upstreamStatus,
      status,
      cephErrorDetail: null,
      cephErrorCode: cephCode,
      cephTask: null,
      errorCode,
    });
  } catch (err) {
    d.log.error({ err, audit_id: id }, 'audit outcome of a native login could not be written');
  }
}

/** The limiter's admission; a database that cannot count the attempt refuses it (fail closed, nothing reaches Ceph). */
async function admit(d: NativeAnswersDeps, cluster: string, username: string, client: string): Promise<Admission> {
  const limiter = d.limiters.get(cluster);
  if (limiter === undefined) return { ok: false, reason: 'user', retryAfterS: 60 };
  try {
    return await limiter.admit(username, client);
  } catch (err) {
    throw new GatewayError(503, 'audit_unavailable', 'The gateway database cannot count this login attempt, so it was not tried.', {
      cause: err,
      headers: { 'Retry-After': '5' },
      extra: { retry_after: 5 },
    });
  }
}

/** A verdict that could not be written leaves its reservation counted until it is stale: the safe side. */
async function settled(d: NativeAnswersDeps, p: Promise<void>): Promise<void> {
  try {
    await p;
  } catch (err) {
    d.log.error({ err }, 'native login verdict not recorded; the attempt counts as a failure until it is stale');
  }
}

/** POST /api/auth: checks the password with Ceph (never more attempts than the limiter admits) and issues a gateway token. */
async function login(d: NativeAnswersDeps, x: Exchange, route: RouteMatch): Promise<boolean> {
  const { state } = x;
  const cluster = enabledCluster(d, route);
  if (cluster === null) return false;
  const cfg = d.clusters.get(cluster) as NativeLoginConfig;
  const rt = d.runtime(cluster) as ClusterRuntime;
  const type = contentType(state);
  const body = await readJson(x, d.bodyTimeoutMs);
  const username = body?.username;
  const password = body?.password;
  if (typeof username !== 'string' || username === '' || typeof password !== 'string' || password === '') {
    throw new GatewayError(400, 'bad_request', 'Send {"username": ..., "password": ...} as JSON.');
  }
  // `ttl` and any other field are dropped: the gateway decides the token lifetime (token_ttl_seconds).
  const audited = { username };
  const admission = await admit(d, cluster, username, state.clientIp);
  if (!admission.ok) {
    await intent(d, state, audited, { status: 429, code: 'too_many_requests' });
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
    await settled(d, attempt.abandoned());
    await intent(d, state, audited, { status: 400, code: 'invalid_credentials' });
    d.log.warn({ cluster, username }, 'native login as a gateway service account refused');
    sendJson(x, 400, INVALID_CREDENTIALS);
    return true;
  }
  let auditId: string;
  try {
    auditId = await intent(d, state, audited);
  } catch (err) {
    await settled(d, attempt.abandoned());
    throw err;
  }
  const forwardedAt = d.now();
  const verdict = await d.cephAuth.login(rt, username, password);
  if (verdict.kind === 'invalid') {
    await settled(d, attempt.failed());
    await outcome(d, auditId, forwardedAt, 400, 400, 'invalid_credentials', null);
    sendJson(x, 400, INVALID_CREDENTIALS);
    return true;
  }
  if (verdict.kind === 'unavailable') {
    await settled(d, attempt.abandoned());
    await outcome(d, auditId, forwardedAt, null, 503, null, 'ceph_unavailable');
    throw new GatewayError(503, 'ceph_unavailable', `Ceph cluster ${cluster} cannot check the password right now.`, {
      cause: new Error(verdict.cause),
      headers: { 'Retry-After': '2' },
      extra: { retry_after: 2 },
    });
  }
  await settled(d, attempt.succeeded());
  const a = verdict.answer;
  let issued: Awaited<ReturnType<NativeSessionStore['create']>>;
  try {
    issued = await d.sessions.create(
      {
        cluster,
        username: a.username,
        cephToken: a.token,
        permissions: a.permissions,
        pwdExpirationDate: a.pwdExpirationDate,
        sso: a.sso,
        pwdUpdateRequired: a.pwdUpdateRequired,
      },
      cfg.token_ttl_seconds * 1000,
    );
  } catch (err) {
    // No session could be stored: the user's Ceph token would be orphaned, so it is logged out at once.
    await d.cephAuth.logout(rt, a.token);
    await outcome(d, auditId, forwardedAt, 201, 503, null, 'audit_unavailable');
    throw new GatewayError(503, 'audit_unavailable', 'The gateway database cannot store the session; try again later.', {
      cause: err,
      headers: { 'Retry-After': '5' },
      extra: { retry_after: 5 },
    });
  }
  const { token, session } = issued;
  await outcome(d, auditId, forwardedAt, 201, 201, null, null);
  d.log.info({ cluster, username: a.username, session: session.id, expires: new Date(session.expiresAt).toISOString() }, 'native login');
  sendJson(
    x,
    201,
    { token, username: a.username, permissions: a.permissions, pwdExpirationDate: a.pwdExpirationDate, sso: a.sso, pwdUpdateRequired: a.pwdUpdateRequired },
    { contentType: type },
  );
  return true;
}

/** POST /api/auth/logout with a gateway token: revokes it and block-lists the Ceph token behind it. */
async function logout(d: NativeAnswersDeps, x: Exchange, route: RouteMatch): Promise<boolean> {
  const { state } = x;
  const auth = readAuthorization({ method: 'POST', headers: state.headers, target: state.target, clientIp: state.clientIp });
  if (auth.kind !== 'bearer' || !isNativeToken(auth.token)) return false;
  const cluster = enabledCluster(d, route);
  if (cluster === null) return false;
  const type = contentType(state);
  const input = { method: 'POST' as const, headers: state.headers, target: state.target, clientIp: state.clientIp };
  // Authenticated like any request (same cluster rule), so the audit record names the principal.
  const who = await d.auth.authenticator.authenticate(input);
  const session = who.kind === 'ok' ? await d.sessions.revoke(auth.token) : null;
  if (session !== null && who.kind === 'ok') {
    state.principal = who.principal;
    const auditId = await intent(d, state, null);
    const forwardedAt = d.now();
    // Block-list the user's Ceph token too; the gateway token is already gone whatever Ceph answers.
    const res = await d.cephAuth.logout(d.runtime(cluster) as ClusterRuntime, session.cephToken);
    if ('error' in res) d.log.warn({ cluster, session: session.id, err: res.error }, 'ceph logout failed; the Ceph token lapses at its exp');
    await outcome(d, auditId, forwardedAt, 'status' in res ? res.status : null, 200, null, null);
    d.log.info({ cluster, username: session.username, session: session.id }, 'native logout');
  }
  // Ceph answers 200 {"redirect_url": "#/login"}; for an unknown token too (where Ceph itself fails with 500).
  sendJson(x, 200, { redirect_url: '#/login' }, { contentType: type });
  return true;
}

/** POST /api/auth/check: Ceph's own answer for the Ceph token behind a gateway token, or `login_url`. */
async function check(d: NativeAnswersDeps, x: Exchange, route: RouteMatch): Promise<boolean> {
  const { state } = x;
  // Decided before the body is read: a consumed body could not be forwarded by the pipeline any more.
  const cluster = enabledCluster(d, route);
  if (cluster === null) return false;
  const type = contentType(state);
  // Ceph reads the token from its arguments (JSON body or query), not from the header; accept all three.
  // Through the gateway the only Ceph-style tokens a client holds are gateway tokens, so every check is ours.
  const body = await readJson(x, d.bodyTimeoutMs).catch(() => null);
  const auth = readAuthorization({ method: 'POST', headers: state.headers, target: state.target, clientIp: state.clientIp });
  const candidates = [body?.token, state.target.query.token?.[0], auth.kind === 'bearer' ? auth.token : undefined];
  const token = candidates.find((t): t is string => typeof t === 'string' && t !== '');
  const rt = d.runtime(cluster) as ClusterRuntime;
  const s = token === undefined ? null : await d.sessions.get(token);
  if (s !== null && s.cluster === cluster) {
    // Ask Ceph with the user's own token: permissions may have changed, the token may be revoked there.
    const v = await d.cephAuth.check(rt, s.cephToken);
    if (v.kind === 'valid') {
      sendJson(x, 200, v.body, { contentType: type });
      return true;
    }
    if (v.kind === 'unavailable') {
      sendJson(x, 200, { username: s.username, permissions: s.permissions, sso: s.sso, pwdUpdateRequired: s.pwdUpdateRequired }, { contentType: type });
      return true;
    }
    await d.sessions.revokeKey(s.key);
    sendJson(x, 200, v.body, { contentType: type });
    return true;
  }
  // Never send a client's token upstream: ask Ceph with one it surely refuses, for its own answer.
  const v = await d.cephAuth.check(rt, 'invalid');
  sendJson(x, 200, v.kind === 'invalid' ? v.body : { login_url: '#/login' }, { contentType: type });
  return true;
}
