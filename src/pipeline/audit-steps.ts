// The audit stages of the pipeline: the intent (committed before forwarding; a failure refuses
// the request with 503), the outcome (added after; a failure is logged, the record stays
// `unknown`), and denials/authentication failures (recorded with their final status).

import type { RequestState } from '../server/env.ts';
import { GatewayError } from '../server/errors.ts';
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

export async function auditIntent(deps: PipelineDeps, state: RequestState, method: HttpMethod, body: Buffer | null, id: string): Promise<void> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    // The store bounds its own waits; this bound holds even for a store that never answers.
    const limit = deps.config.audit.intent_timeout_ms;
    await Promise.race([
      deps.audit.recordIntent(intentOf(state, method, body, id)),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`audit intent not committed within ${limit} ms`)), limit);
      }),
    ]);
  } catch (err) {
    deps.metrics.auditFailures.inc({ kind: 'intent' });
    throw new GatewayError(503, 'audit_unavailable', 'The audit log cannot record this request, so it was not forwarded.', {
      cause: err, headers: { 'Retry-After': '5' }, extra: { retry_after: 5 },
    });
  } finally {
    clearTimeout(timer);
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
  const intent: AuditIntent = { ...intentOf(state, method, body, uuidv7()), finalStatus: status, errorCode: code };
  try {
    await deps.audit.recordIntent(intent);
  } catch (e) {
    // The request is refused either way; nothing was forwarded. Losing this record is logged loudly.
    deps.metrics.auditFailures.inc({ kind: 'denial' });
    deps.log.error({ err: e, request_id: state.requestId, code }, 'audit record of a refused request could not be written');
  }
}
