// The one mapping from a thrown error to the error response (Ceph's shape, request id, no-store),
// with the logging that goes with it; used by both entry points (server/request-listener.ts for the
// Ceph API, web/app.ts's onError for the gateway's own pages).

import { type ErrorBody, errorBody, GatewayError } from './errors.ts';
import type { Logger } from './logger.ts';
import type { RequestState } from './request-state.ts';

export function errorResponse(
  err: unknown,
  state: RequestState | undefined,
  log: Logger,
): { status: number; body: ErrorBody; headers: Record<string, string> } {
  const requestId = state?.requestId ?? 'none';
  const { status, body, headers } = errorBody(err, requestId);
  if (state) state.errorCode = body.code;
  if (!(err instanceof GatewayError)) log.error({ err, request_id: requestId }, 'unhandled error');
  else if (err.cause !== undefined) log.warn({ err: err.cause, code: err.code, request_id: requestId }, err.message);
  return { status, body, headers: { ...headers, 'X-Request-Id': requestId, 'Cache-Control': 'no-store' } };
}
