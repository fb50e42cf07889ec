// The audit stages of the pipeline: the intent (committed before forwarding; a failure refuses the
// request with 503 and records that refusal), the outcome (added after; a failure is logged, the
// record stays `unknown`), and refusals (authentication failures, unknown routes, bad bodies,
// denials: recorded with their final status, in the local spool while the store is down).

import { v7 as uuidv7 } from 'uuid';
import { bodyForAudit, intentOf } from '../audit/intent.ts';
import { cephAnswer } from '../ceph/answer.ts';
import { auditUnavailable, GatewayError } from '../core/errors.ts';
import type { RequestState } from '../core/request-state.ts';
import { withTimeout } from '../core/timeout.ts';
import type { PipelineDeps } from './deps.ts';

/** The store bounds its own waits; this bound holds even for a sink that never answers. */
const withinAuditBound = (deps: PipelineDeps, write: Promise<void>, what: string): Promise<void> =>
  withTimeout(write, deps.config.audit.intent_timeout_ms, what);

/**
 * Commits the intent before anything is forwarded and returns its id. When it cannot be committed the
 * request is refused (503) and that refusal is recorded under the same id, so the audit log still
 * shows who tried what once the store is back.
 */
export async function auditIntent(deps: PipelineDeps, state: RequestState, method: string, body: Buffer | null): Promise<string> {
  const started = performance.now();
  const intent = intentOf(state, { id: uuidv7(), method, body: bodyForAudit(body) });
  try {
    await withinAuditBound(deps, deps.audit.recordIntent(intent), 'audit intent');
    return intent.id;
  } catch (err) {
    deps.metrics.auditFailures.inc({ kind: 'intent' });
    const refused = auditUnavailable('The audit log cannot record this request, so it was not forwarded.', err);
    await keepRefusal(deps, state, { ...intent, finalStatus: refused.status, errorCode: refused.code });
    throw refused;
  } finally {
    deps.metrics.auditWriteSeconds.observe({ kind: 'intent' }, (performance.now() - started) / 1000);
  }
}

export async function auditOutcome(
  deps: PipelineDeps,
  id: string,
  forwardedAt: Date,
  upstreamStatus: number | null,
  status: number,
  answer: Buffer | null,
  err: unknown,
): Promise<void> {
  const started = performance.now();
  const ceph = cephAnswer(status, answer);
  try {
    await deps.audit.recordOutcome(id, {
      forwardedAt,
      completedAt: deps.now(),
      upstreamStatus,
      status,
      cephErrorDetail: ceph.detail,
      cephErrorCode: ceph.code,
      cephTask: ceph.task,
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

/** Records a request refused before forwarding, with the status and code it is answered with. */
export async function recordRefusal(deps: PipelineDeps, state: RequestState, method: string, body: Buffer | null, err: unknown): Promise<void> {
  const status = err instanceof GatewayError ? err.status : 500;
  const code = err instanceof GatewayError ? err.code : 'internal_error';
  await keepRefusal(deps, state, intentOf(state, { id: uuidv7(), method, body: bodyForAudit(body), final: { status, code } }));
}

/**
 * Runs a stage of the pipeline; a refusal it throws is recorded (who tried what) before it is answered.
 * `body` is what the record shows of the request's body so far.
 */
export async function orRecordRefusal<T>(
  deps: PipelineDeps,
  state: RequestState,
  method: string,
  body: Buffer | null,
  stage: () => T | Promise<T>,
): Promise<T> {
  try {
    return await stage();
  } catch (err) {
    await recordRefusal(deps, state, method, body, err);
    throw err;
  }
}

async function keepRefusal(deps: PipelineDeps, state: RequestState, intent: Parameters<PipelineDeps['audit']['recordRefusal']>[0]): Promise<void> {
  try {
    await withinAuditBound(deps, deps.audit.recordRefusal(intent), 'audit record of a refusal');
  } catch (e) {
    // The request is refused either way; nothing was forwarded. Losing this record is logged loudly.
    deps.metrics.auditFailures.inc({ kind: 'denial' });
    deps.log.error({ err: e, request_id: state.requestId, code: intent.errorCode }, 'audit record of a refused request could not be written');
  }
}
