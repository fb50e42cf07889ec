// The request pipeline for Ceph API calls, stage by stage:
// authenticate -> match route -> read body -> decide -> audit intent -> forward -> audit outcome (queued) -> respond.
// Every refusal is a GatewayError; refusals of identified or unidentified callers are audited.
// Fail closed: an error in any stage before forwarding means nothing is forwarded.

import type { Context } from 'hono';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import { v7 as uuidv7 } from 'uuid';
import { bodyAllowed, readBody } from '../intake/body.ts';
import { firstHeader } from '../intake/headers.ts';
import { upstreamPathAndQuery } from '../intake/request-target.ts';
import { cephParsesAsForm, refuseReplacedPathParams } from '../ceph/arguments.ts';
import { upstreamRequestHeaders } from '../proxy/headers.ts';
import type { AppEnv, RequestState } from '../server/env.ts';
import { GatewayError } from '../server/errors.ts';
import type { PipelineDeps } from './deps.ts';
import { auditDenial, auditIntent, auditOutcome } from './audit-steps.ts';
import { decideSafely } from './decide.ts';
import { sendUpstreamResponse } from './respond.ts';
import type { Decision, HttpMethod, Principal, RouteMatch, UpstreamResponse } from './types.ts';

const PROXIED_METHODS = new Set<string>(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE']);
const MUTATING = new Set<string>(['POST', 'PUT', 'PATCH', 'DELETE']);

export function createGatewayHandler(deps: PipelineDeps) {
  return async function gatewayHandler(c: Context<AppEnv>): Promise<Response> {
    const state = c.get('state');
    const method = c.req.method;
    if (!PROXIED_METHODS.has(method)) {
      throw new GatewayError(405, 'method_not_allowed', `method ${method} is not served`, { headers: { Allow: 'GET, HEAD, POST, PUT, PATCH, DELETE' } });
    }
    // HEAD is the GET without its body (RFC 9110 §9.3.2): matched, decided and sent to Ceph as that GET
    // (Ceph's router answers HEAD with 404); only the answer's headers go back.
    const m = (method === 'HEAD' ? 'GET' : method) as HttpMethod;

    // 1. Authenticate. Failures are audited (who tried what) and answered 400/401.
    let principal: Principal;
    try {
      principal = await deps.authenticate({ method: m, headers: state.headers, target: state.target, clientIp: state.clientIp });
    } catch (err) {
      await auditDenial(deps, state, m, null, err);
      throw err;
    }
    state.principal = principal;

    // 2. Match the Ceph route (decoded parameters, operation, cluster).
    let route: RouteMatch;
    try {
      route = deps.matchRoute(m, state.target);
      // Set before the checks below, so that a refusal's audit record names the route and its pools.
      state.route = route;
      refuseReplacedPathParams(route, state.target.query);
      if (route.operation?.unauthenticated && !forwardsUnauthenticated(deps, route)) {
        throw new GatewayError(404, 'unknown_route', 'This Ceph path is not served through the gateway.');
      }
    } catch (err) {
      await auditDenial(deps, state, m, null, err);
      throw err;
    }
    state.route = route;

    // 3. Read the body: exactly these bytes are decided on, audited and forwarded.
    let body: Buffer | null;
    try {
      body = await readRequestBody(c, state, m, deps);
    } catch (err) {
      await auditDenial(deps, state, m, null, err);
      throw err;
    }

    // 4. Decide. decideSafely never throws: an engine failure is a deny.
    const decision: Decision = decideSafely(deps, {
      principal, method: m, route, query: state.target.query, body, contentType: firstHeader(state.headers, 'content-type') ?? null, now: deps.now(),
    });
    state.decision = decision;
    if (decision.effect !== 'allow') {
      const err = new GatewayError(403, decision.ruleId === null && decision.reason === 'policy evaluation failed' ? 'policy_error' : 'policy_denied', decision.reason, {
        extra: { rule: decision.ruleId },
      });
      await auditDenial(deps, state, m, body, err);
      throw err;
    }

    // A ceph_native principal is forwarded with its own Ceph token, never a service account: fail closed.
    let userCredential: { token: string; rejected(): void } | undefined;
    if (principal.cephUser !== undefined) {
      try {
        if (!deps.cephCredential) throw new GatewayError(401, 'invalid_token', 'Ceph-native logins are not enabled.');
        userCredential = deps.cephCredential(principal, route.cluster);
      } catch (err) {
        await auditDenial(deps, state, m, body, err);
        throw err;
      }
    }

    // 5. Audit intent, committed before anything reaches Ceph (mutations, and reads when configured).
    const audited = MUTATING.has(m) || deps.config.audit.record_reads;
    const auditId = audited ? uuidv7() : null;
    if (auditId !== null) await auditIntent(deps, state, m, body, auditId);

    // 6. Forward with the gateway's own credential and the right API version.
    const forwardedAt = deps.now();
    const started = performance.now();
    let upstream: UpstreamResponse;
    try {
      upstream = await deps.upstream.send({
        requestId: state.requestId,
        cluster: route.cluster,
        cephAccount: decision.cephAccount,
        method: m,
        pathAndQuery: upstreamPathAndQuery(state.target),
        headers: upstreamRequestHeaders(state.headers, {
          requestId: state.requestId, clientIp: state.clientIp, fromTrustedProxy: state.fromTrustedProxy, proto: publicProto(deps, c), host: publicHost(deps, c),
        }),
        body,
        operation: route.operation,
        clientAccept: firstHeader(state.headers, 'accept') ?? null,
        ...(userCredential ? { userCredential } : {}),
      });
    } catch (err) {
      state.upstreamMs = performance.now() - started;
      if (auditId !== null) void auditOutcome(deps, auditId, forwardedAt, null, err instanceof GatewayError ? err.status : 502, null, err);
      throw err;
    }
    state.upstreamMs = performance.now() - started;
    state.upstreamStatus = upstream.status;
    if (upstream.shared) state.shared = upstream.shared;
    deps.metrics.upstreamAnswers.inc({ cluster: route.cluster, shared: upstream.shared ?? 'no' });
    // Only answers that really came from Ceph measure Ceph's latency.
    if (!upstream.shared) deps.metrics.upstreamSeconds.observe({ cluster: route.cluster }, state.upstreamMs / 1000);

    // 7-8. Audit outcome (needs Ceph's small answer for errors and task names), then respond. The
    // outcome is queued before the client is answered and committed with the next group commit,
    // not waited for: the intent already made the call durable, and Ceph has acted either way. If
    // the process died in between, the record would stay `unknown`, exactly as when the outcome
    // write fails. The audit API flushes the queue before it reads (read-your-writes).
    return await sendUpstreamResponse(c, upstream, {
      inspect: auditId !== null,
      onInspected: async (answerBody) => {
        if (auditId !== null) void auditOutcome(deps, auditId, forwardedAt, upstream.status, upstream.status, answerBody, null);
      },
    }).then((sent) => sent ?? RESPONSE_ALREADY_SENT);
  };
}

function forwardsUnauthenticated(deps: PipelineDeps, route: RouteMatch): boolean {
  const cluster = deps.config.ceph.clusters.find((cl) => cl.name === route.cluster);
  return cluster?.forward_unauthenticated_paths.includes(route.template) ?? false;
}

async function readRequestBody(c: Context<AppEnv>, state: RequestState, method: HttpMethod, deps: PipelineDeps): Promise<Buffer | null> {
  const cl = firstHeader(state.headers, 'content-length');
  const chunked = state.headers.has('transfer-encoding');
  if (cl === undefined && !chunked) return null;
  if (!bodyAllowed(method)) throw new GatewayError(400, 'bad_request', `a ${method} request must not have a body`);
  if (state.headers.has('content-encoding')) throw new GatewayError(415, 'unsupported_media_type', 'compressed request bodies are not accepted');
  const type = firstHeader(state.headers, 'content-type');
  if (type !== undefined && cephParsesAsForm(type)) throw new GatewayError(415, 'unsupported_media_type', 'form-encoded and multipart bodies are not accepted; send JSON');
  const length = cl === undefined ? null : Number(cl);
  if (length !== null && (!Number.isSafeInteger(length) || length < 0)) throw new GatewayError(400, 'bad_request', 'invalid Content-Length');
  const limits = { maxBytes: deps.config.limits.max_body_bytes, timeoutMs: deps.config.limits.body_timeout_ms };
  const incoming = c.env?.incoming;
  if (incoming) return await readBody(incoming, length, chunked, limits);
  // In-process requests (app.request in tests) have no Node stream: read the web body with the same limit.
  const buf = Buffer.from(await c.req.raw.arrayBuffer());
  if (buf.length > limits.maxBytes) throw new GatewayError(413, 'body_too_large', `request body exceeds ${limits.maxBytes} bytes`);
  return buf;
}

function publicProto(deps: PipelineDeps, c: Context<AppEnv>): 'http' | 'https' {
  if (deps.config.server.public_url) return deps.config.server.public_url.startsWith('https:') ? 'https' : 'http';
  return deps.config.server.tls || (c.env?.incoming?.socket as { encrypted?: boolean } | undefined)?.encrypted ? 'https' : 'http';
}

function publicHost(deps: PipelineDeps, c: Context<AppEnv>): string {
  if (deps.config.server.public_url) return new URL(deps.config.server.public_url).host;
  const listen = deps.config.server.listen;
  void c;
  return `${listen.host}:${listen.port}`;
}
