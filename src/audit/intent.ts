// The one builder of an audit record from a request's state: who (principal, client), what (method,
// target, route, query, body), and how it was decided; refusals also carry their final status.

import type { AuditIntent } from '../core/audit.ts';
import type { RequestState } from '../core/request-state.ts';

export interface IntentFields {
  readonly id: string;
  readonly method: string;
  /** What the record keeps of the body: see `bodyForAudit`; null when there is none. */
  readonly body: unknown;
  /** For a request the gateway answered itself (a refusal, or a change of its own state): the status and
   *  error code it was answered with. Forwarded requests get theirs from the outcome instead. */
  readonly final?: { readonly status: number; readonly code: string | null };
  /** Record the path only, not the query (a Ceph-native `check` may carry its token there). */
  readonly pathOnly?: boolean;
}

export function intentOf(state: RequestState, f: IntentFields): AuditIntent {
  return {
    id: f.id,
    requestId: state.requestId,
    receivedAt: state.receivedAt,
    cluster: state.route?.cluster ?? state.target.cluster,
    principal: state.principal ?? null,
    clientIp: state.clientIp,
    userAgent: state.headers.get('user-agent')?.[0] ?? null,
    method: f.method,
    rawPath: f.pathOnly === true ? state.target.rawPath : state.target.raw,
    route: state.route ?? null,
    query: f.pathOnly === true ? {} : state.target.query,
    body: f.body,
    decision: state.decision ?? null,
    ...(f.final ? { finalStatus: f.final.status, ...(f.final.code === null ? {} : { errorCode: f.final.code }) } : {}),
  };
}

/** A body as the record keeps it: the parsed JSON (the store redacts it), or only its size when it is
 *  not JSON (raw bytes could hold anything, secrets included). */
export function bodyForAudit(body: Buffer | null): unknown {
  if (body === null || body.length === 0) return null;
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return { $unparsed_bytes: body.length };
  }
}
