// The audit stages of the pipeline: the intent (committed before forwarding; a failure refuses
// the request with 503), the outcome (added after; a failure is logged, the record stays
// `unknown`), and denials/authentication failures (recorded with their final status).

import type { RequestState } from '../server/env.ts';
import { auditUnavailable, GatewayError } from '../server/errors.ts';
import { firstHeader } from '../intake/headers.ts';
import type { PipelineDeps } from './deps.ts';
import { cephAnswer } from './outcome.ts';
import type { AuditIntent, HttpMethod } from './types.ts';
import { v7 as uuidv7 } from 'uuid';

function parsedBody(body: Buffer | null): unknown {
  if (body === null || body.length === 0) return null;
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    // Not JSON: record its size only; raw bytes could hold anything (secrets included).
    return { $unparsed_bytes: body.length };
  }
}

function intentOf(state: RequestState, method: HttpMethod | string, body: Buffer | null, id: string): AuditIntent {
  return {
    id,
    requestId: state.requestId,
    receivedAt: state.receivedAt,
    cluster: state.route?.cluster ?? state.target.cluster,
    principal: state.principal ?? null,
    clientIp: state.clientIp,
    userAgent: firstHeader(state.headers, 'user-agent') ?? null,
    method,
    rawPath: state.target.raw,
    route: state.route ?? null,
    query: state.target.query,
    body: parsedBody(body),
    decision: state.decision ?? null,
  };
}

/** The store bounds its own waits; this bound holds even for a sink that never answers. */
async function withinAuditBound(deps: PipelineDeps, write: Promise<void>, what: string): Promise<void> {
  const limit = deps.config.audit.intent_timeout_ms;
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([write, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} not recorded within ${limit} ms`)), limit)))]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Commits the intent before anything is forwarded. When it cannot be committed the request is refused
 * (503) and that refusal is recorded under the same id, in the local spool if the store is down, so
 * the audit log still shows who tried what once it is back.
 */
export async function auditIntent(deps: PipelineDeps, state: RequestState, method: HttpMethod, body: Buffer | null, id: string): Promise<void> {
  const started = performance.now();
  const intent = intentOf(state, method, body, id);
  try {
    await withinAuditBound(deps, deps.audit.recordIntent(intent), 'audit intent');
  } catch (err) {
    deps.metrics.auditFailures.inc({ kind: 'intent' });
    const refused = auditUnavailable('The audit log cannot record this request, so it was not forwarded.', err);
    await recordRefusal(deps, state, { ...intent, finalStatus: refused.status, errorCode: refused.code });
    throw refused;
  } finally {
    deps.metrics.auditWriteSeconds.observe({ kind: 'intent' }, (performance.now() - started) / 1000);
  }
}

export async function auditOutcome(
  deps: PipelineDeps, id: string, forwardedAt: Date, upstreamStatus: number | null, status: number, answer: Buffer | null, err: unknown,
): Promise<void> {
  const started = performance.now();
  const ceph = cephAnswer(status, answer);
  try {
    await deps.audit.recordOutcome(id, {
      forwardedAt, completedAt: deps.now(), upstreamStatus, status,
      cephErrorDetail: ceph.detail, cephErrorCode: ceph.code, cephTask: ceph.task,
      errorCode: err instanceof GatewayError ? err.code : err ? 'internal_error' : null,
    });
  } catch (e) {
    // The request already happened in Ceph: the client gets its answer, the record stays `unknown`.
    deps.metrics.auditFailures.inc({ kind: 'outcome' });
    deps.log.error({ err: e, audit_id: id }, 'audit outcome could not be written; record stays unknown');
  } finally {
    deps.metrics.auditWriteSeconds.observe({ kind: 'outcome' }, (performance.now() - started) / 1000);
  }
}

/** Records a refused request (authentication failure, unknown route, bad body, policy deny). */
export async function auditDenial(deps: PipelineDeps, state: RequestState, method: HttpMethod | string, body: Buffer | null, err: unknown): Promise<void> {
  const status = err instanceof GatewayError ? err.status : 500;
  const code = err instanceof GatewayError ? err.code : 'internal_error';
  await recordRefusal(deps, state, { ...intentOf(state, method, body, uuidv7()), finalStatus: status, errorCode: code });
}

async function recordRefusal(deps: PipelineDeps, state: RequestState, intent: AuditIntent): Promise<void> {
  try {
    await withinAuditBound(deps, deps.audit.recordRefusal(intent), 'audit record of a refusal');
  } catch (e) {
    // The request is refused either way; nothing was forwarded. Losing this record is logged loudly.
    deps.metrics.auditFailures.inc({ kind: 'denial' });
    deps.log.error({ err: e, request_id: state.requestId, code: intent.errorCode }, 'audit record of a refused request could not be written');
  }
}
