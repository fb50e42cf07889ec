// The request pipeline for the Ceph API, one stage after another:
//   match route -> (a file of the dashboard UI? ui-asset.ts) -> answer locally? -> authenticate -> check route -> read body -> decide
//   -> audit intent -> forward to Ceph -> answer (audit outcome queued, not awaited).
// Every refusal is a GatewayError, recorded in the audit log before it is answered (by the entry
// point, server/request-listener.ts). Fail closed: an error in any stage before forwarding means
// nothing is forwarded.

import { cephParsesAsForm, refuseReplacedPathParams } from '../ceph/arguments.ts';
import { isUiAsset, UI_PUBLIC_READS } from '../ceph/ui-assets.ts';
import type { RouteMatch } from '../core/catalogue.ts';
import type { Decision } from '../core/decision.ts';
import { GatewayError } from '../core/errors.ts';
import type { Exchange } from '../core/exchange.ts';
import { type HttpMethod, MUTATING_METHODS, PROXIED_METHODS } from '../core/http.ts';
import type { Principal } from '../core/principal.ts';
import type { RequestState } from '../core/request-state.ts';
import { inStage } from '../core/trace.ts';
import { readRequestBody } from '../intake/body.ts';
import { type RateLimits, rateLimitError } from '../limits/index.ts';
import { sendUpstreamAnswer } from './answer.ts';
import { auditIntent, auditOutcome, recordRefusal } from './audit-steps.ts';
import { decideSafely, fromDashboardUi, refusalOf } from './decide.ts';
import type { PipelineDeps } from './deps.ts';
import { forwardToCeph, publicOriginOf } from './forward.ts';
import { serveUiAsset } from './ui-asset.ts';

export function createProxyHandler(deps: PipelineDeps): (x: Exchange) => Promise<void> {
  const origin = publicOriginOf(deps.config.server);
  const bodyLimits = { maxBytes: deps.config.limits.max_body_bytes, timeoutMs: deps.config.limits.body_timeout_ms };

  return async function handle(x: Exchange): Promise<void> {
    const { state } = x;
    const method = decidedMethod(x.method);
    const matched = matchRoute(deps, state, method);
    if (isUiAsset(matched.route?.operation ?? null)) return await serveUiAsset(deps, x, matched.route as RouteMatch, origin);
    if (matched.route !== null && (await answerLocally(deps, x, matched.route))) return;

    // Every stage up to the decision's refusal, rate limits included, in one refusal boundary: whatever
    // they throw is recorded (who tried what, with the body once it has been read) before it is answered.
    let body: Buffer | null = null;
    let principal: Principal;
    let route: RouteMatch;
    let decision: Decision;
    let userCredential: ReturnType<typeof cephNativeCredential>;
    let rateLimitHeaders: Readonly<Record<string, string>> | null = null;
    try {
      principal = await inStage(state.trace, 'authenticate', () => authenticate(deps, state, method));
      route = checkedRoute(deps, state, matched);
      if (hasBody(state.headers)) body = await readBody(x, method, bodyLimits);
      decision = decide(deps, state, { principal, method, route, body });
      const refused = refusalOf(decision, fromDashboardUi(method, principal, state.headers));
      if (refused !== null) throw refused;
      userCredential = cephNativeCredential(deps, principal, route);
      // Spent only by requests the policy allows, so a refused flood costs no budget; a refused mutation is audited.
      if (deps.rateLimits?.enabled) rateLimitHeaders = await spendRateLimits(deps, principal, route, method);
    } catch (err) {
      await recordRefusal(deps, state, method, body, err);
      throw err;
    }

    const auditId =
      MUTATING_METHODS.has(method) || deps.config.audit.record_reads
        ? await inStage(state.trace, 'audit.intent', () => auditIntent(deps, state, method, body))
        : null;
    const forwardedAt = deps.now();
    let upstream: Awaited<ReturnType<typeof forwardToCeph>>;
    try {
      upstream = await inStage(state.trace, 'upstream', (span) =>
        forwardToCeph(deps, x, { method, route, decision, body, ...(userCredential ? { userCredential } : {}) }, origin, span),
      );
    } catch (err) {
      if (auditId !== null)
        void inStage(state.trace, 'audit.outcome', () =>
          auditOutcome(deps, auditId, forwardedAt, null, err instanceof GatewayError ? err.status : 502, null, err),
        );
      throw err;
    }
    // The outcome is queued before the client is answered and committed with the next group commit,
    // not waited for: the intent made the call durable, and Ceph has acted either way (docs/audit.md).
    await sendUpstreamAnswer(x, upstream, {
      inspect: auditId !== null,
      extraHeaders: rateLimitHeaders,
      onInspected: (answer) => {
        if (auditId !== null)
          void inStage(state.trace, 'audit.outcome', () => auditOutcome(deps, auditId, forwardedAt, upstream.status, upstream.status, answer, null));
      },
    });
  };
}

/** HEAD is the GET without its body (RFC 9110 §9.3.2): matched, decided and sent to Ceph as that GET. */
function decidedMethod(method: string): HttpMethod {
  if (!(PROXIED_METHODS as readonly string[]).includes(method)) {
    throw new GatewayError(405, 'method_not_allowed', `method ${method} is not served`, { headers: { Allow: PROXIED_METHODS.join(', ') } });
  }
  return (method === 'HEAD' ? 'GET' : method) as HttpMethod;
}

type Matched = { readonly route: RouteMatch; readonly error: null } | { readonly route: null; readonly error: unknown };

/** The route, matched before authentication (local answers need it) but refused only after it (401 before 404). */
function matchRoute(deps: PipelineDeps, state: RequestState, method: HttpMethod): Matched {
  try {
    const route = deps.matchRoute(method, state.target);
    // Set early, so that every refusal's audit record names the route and the pools it names.
    state.route = route;
    return { route, error: null };
  } catch (error) {
    return { route: null, error };
  }
}

async function answerLocally(deps: PipelineDeps, x: Exchange, route: RouteMatch): Promise<boolean> {
  const id = route.operation?.id;
  for (const answer of (id === undefined ? undefined : deps.localAnswers?.get(id)) ?? []) if (await answer(x, route)) return true;
  return false;
}

async function authenticate(deps: PipelineDeps, state: RequestState, method: HttpMethod): Promise<Principal> {
  state.principal = await deps.authenticate({ method, headers: state.headers, target: state.target, clientIp: state.clientIp });
  return state.principal;
}

/** The matched route, or the refusal it deferred; a path parameter repeated in the query, or one of
 *  Ceph's unauthenticated operations the cluster does not forward, is refused here too. */
function checkedRoute(deps: PipelineDeps, state: RequestState, matched: Matched): RouteMatch {
  if (matched.route === null) throw matched.error;
  const route = matched.route;
  refuseReplacedPathParams(route, state.target.query);
  const op = route.operation;
  if (op?.unauthenticated) {
    const cluster = deps.config.ceph.clusters.find((c) => c.name === route.cluster);
    const listed = cluster?.forward_unauthenticated_paths.includes(route.template) ?? false;
    const uiRead = deps.uiClusters?.has(route.cluster) === true && UI_PUBLIC_READS.has(op.id);
    if (!listed && !uiRead) throw new GatewayError(404, 'unknown_route', 'This Ceph path is not served through the gateway.');
  }
  return route;
}

/** The policy's decision, in its trace span when traced; kept on the request state for the audit record and the access log. */
function decide(deps: PipelineDeps, state: RequestState, r: { principal: Principal; method: HttpMethod; route: RouteMatch; body: Buffer | null }): Decision {
  const input = {
    principal: r.principal,
    method: r.method,
    route: r.route,
    query: state.target.query,
    body: r.body,
    contentType: state.headers.get('content-type')?.[0] ?? null,
    now: deps.now(),
  };
  const decision = inStage(state.trace, 'decide', (span) => {
    const d = decideSafely(deps, input);
    span.set({ 'cephgate.decision': d.effect, 'cephgate.rule': d.ruleId ?? undefined, 'cephgate.ceph_account': d.cephAccount ?? undefined });
    return d;
  });
  state.decision = decision;
  return decision;
}

/** A request with a body announces it (RFC 9112 §6.3); one without needs no read at all. */
const hasBody = (headers: RequestState['headers']): boolean => headers.has('content-length') || headers.has('transfer-encoding');

/** Exactly these bytes are decided on, audited and forwarded. Form bodies are refused: CherryPy would
 *  make arguments of their fields (ceph/arguments.ts). */
async function readBody(x: Exchange, method: HttpMethod, limits: { maxBytes: number; timeoutMs: number }): Promise<Buffer | null> {
  const { headers } = x.state;
  const type = headers.get('content-type')?.[0];
  if (hasBody(headers) && type !== undefined && cephParsesAsForm(type))
    throw new GatewayError(415, 'unsupported_media_type', 'form-encoded and multipart bodies are not accepted; send JSON');
  return await readRequestBody(x.body, headers, method, limits);
}

/** The request's rate-limit counters and its cluster's budget (limits/): the header fields to send, or the 429/503. */
async function spendRateLimits(
  deps: PipelineDeps,
  principal: Principal,
  route: RouteMatch,
  method: HttpMethod,
): Promise<Readonly<Record<string, string>> | null> {
  const r = await (deps.rateLimits as RateLimits).check(principal, route, method);
  if (!r.ok) throw rateLimitError(r.limited, r.headers);
  return r.headers;
}

/** A Ceph-native principal is forwarded with its own Ceph token, never a service account: fail closed. */
function cephNativeCredential(deps: PipelineDeps, principal: Principal, route: RouteMatch): { token: string; rejected(): void } | undefined {
  if (principal.cephUser === undefined) return undefined;
  if (!deps.cephCredential) throw new GatewayError(401, 'invalid_token', 'Ceph-native logins are not enabled.');
  return deps.cephCredential(principal, route.cluster);
}
