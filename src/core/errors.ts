// The one error type of the gateway and its mapping to Ceph's own error shape:
// {"status": "403 Forbidden", "detail": "...", "request_id": "...", "code": "policy_denied"}.
// Throw GatewayError anywhere; the two entry points (server/request-listener.ts for the Ceph API,
// web/app.ts's onError for the gateway's own pages) turn it into the response with
// core/error-response.ts. No stack traces leave.

import { STATUS_CODES } from 'node:http';

/** Stable error codes. Tests assert on these, never on message text. */
export type ErrorCode =
  | 'bad_request'
  | 'ambiguous_request'
  | 'invalid_path'
  | 'invalid_request'
  | 'conflicting_length'
  | 'header_too_large'
  | 'body_too_large'
  | 'request_timeout'
  | 'unauthenticated'
  | 'invalid_token'
  | 'multiple_credentials'
  | 'csrf_failed'
  | 'policy_denied'
  | 'policy_error'
  | 'unknown_route'
  | 'not_found'
  | 'method_not_allowed'
  | 'unsupported_media_type'
  | 'audit_unavailable'
  | 'ceph_unavailable'
  | 'ceph_login_failed'
  | 'upstream_unreachable'
  | 'upstream_timeout'
  | 'upstream_error'
  | 'too_many_requests'
  | 'shutting_down'
  | 'internal_error';

export interface GatewayErrorOptions {
  /** Extra public fields that help the caller (e.g. `rule`, `retry_after`). Must hold nothing secret. */
  readonly extra?: Record<string, string | number | boolean | null>;
  /** Response headers to add (e.g. WWW-Authenticate, Retry-After). */
  readonly headers?: Record<string, string>;
  /** Internal cause: logged, never sent. */
  readonly cause?: unknown;
}

export class GatewayError extends Error {
  readonly status: number;
  readonly code: ErrorCode;
  readonly extra: Record<string, string | number | boolean | null>;
  readonly headers: Record<string, string>;

  constructor(status: number, code: ErrorCode, detail: string, options: GatewayErrorOptions = {}) {
    super(detail, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'GatewayError';
    this.status = status;
    this.code = code;
    this.extra = options.extra ?? {};
    this.headers = options.headers ?? {};
  }
}

/**
 * The one "audit log unavailable" refusal: whatever could not be recorded was not carried out
 * (fail closed), and the caller may retry after the Retry-After seconds.
 */
export function auditUnavailable(detail: string, cause?: unknown): GatewayError {
  return new GatewayError(503, 'audit_unavailable', detail, {
    cause,
    headers: { 'Retry-After': String(AUDIT_RETRY_AFTER_S) },
    extra: { retry_after: AUDIT_RETRY_AFTER_S },
  });
}
const AUDIT_RETRY_AFTER_S = 5;

export interface ErrorBody {
  status: string;
  detail: string;
  request_id: string;
  code: ErrorCode;
  [extra: string]: string | number | boolean | null;
}

const RESERVED = new Set(['status', 'detail', 'request_id', 'code']);

function withoutReserved(extra: Record<string, string | number | boolean | null>): Record<string, string | number | boolean | null> {
  return Object.fromEntries(Object.entries(extra).filter(([k]) => !RESERVED.has(k)));
}

/** `403` -> `403 Forbidden`, as cherrypy (and so Ceph) writes it. */
export function statusLine(status: number): string {
  return `${status} ${STATUS_CODES[status] ?? 'Unknown'}`;
}

/** The JSON body for an error; unknown errors become a generic 500 (the caller logs the cause). */
export function errorBody(err: unknown, requestId: string): { status: number; body: ErrorBody; headers: Record<string, string> } {
  if (err instanceof GatewayError) {
    return {
      status: err.status,
      headers: err.headers,
      // Ceph's fields first, then the helpful extras (which can never overwrite them).
      body: { status: statusLine(err.status), detail: err.message, request_id: requestId, code: err.code, ...withoutReserved(err.extra) },
    };
  }
  return {
    status: 500,
    headers: {},
    body: { status: statusLine(500), detail: 'The gateway failed to handle the request.', request_id: requestId, code: 'internal_error' },
  };
}

/** A complete raw HTTP/1.1 error response, for errors raised before hono sees the request (clientError). */
export function rawErrorResponse(status: number, code: ErrorCode, detail: string, requestId: string): string {
  const body = JSON.stringify({ status: statusLine(status), detail, request_id: requestId, code });
  return (
    `HTTP/1.1 ${statusLine(status)}\r\n` +
    'Content-Type: application/json\r\n' +
    `Content-Length: ${Buffer.byteLength(body)}\r\n` +
    `X-Request-Id: ${requestId}\r\n` +
    'Connection: close\r\n\r\n' +
    body
  );
}

/** The error and its causes (`err.cause`, depth-bounded): library errors wrap the one that tells. */
export function* causeChain(err: unknown, depth = 5): Generator<unknown> {
  for (let e: unknown = err, i = 0; e !== null && e !== undefined && i < depth; i++) {
    yield e;
    e = typeof e === 'object' ? (e as { cause?: unknown }).cause : undefined;
  }
}

/** The `code` properties along the cause chain (Node's `ECONNREFUSED`, undici's `UND_ERR_*`, SQLSTATEs). */
export function errorCodes(err: unknown): string[] {
  const out: string[] = [];
  for (const e of causeChain(err)) {
    const code = typeof e === 'object' && e !== null ? (e as { code?: unknown }).code : undefined;
    if (typeof code === 'string') out.push(code);
  }
  return out;
}
