// The one table mapping upstream (network) failures to gateway errors: refused, reset or DNS
// failures are 502; connect and header timeouts are 504. Codes from undici and Node's net layer.

import { errorCodes, GatewayError } from '../core/errors.ts';

const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'CERT_HAS_EXPIRED',
]);
const TIMEOUT = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'ETIMEDOUT']);

/** The first code along the cause chain that this table knows (undici wraps Node's socket errors). */
function errorCode(err: unknown): string | undefined {
  const codes = errorCodes(err);
  return codes.find((c) => UNREACHABLE.has(c) || TIMEOUT.has(c)) ?? codes[0];
}

/** Maps a thrown upstream error to a GatewayError; GatewayErrors pass through unchanged. */
export function mapUpstreamError(err: unknown): GatewayError {
  if (err instanceof GatewayError) return err;
  const code = errorCode(err);
  if (code !== undefined && TIMEOUT.has(code)) return new GatewayError(504, 'upstream_timeout', 'Ceph did not answer in time.', { cause: err });
  if (code !== undefined && UNREACHABLE.has(code)) return new GatewayError(502, 'upstream_unreachable', 'Ceph could not be reached.', { cause: err });
  return new GatewayError(502, 'upstream_error', 'The request to Ceph failed.', { cause: err });
}

/** True when the request never reached Ceph, so trying another mgr is safe for any method. */
export function neverReachedUpstream(err: unknown): boolean {
  const code = errorCode(err);
  return (
    code === 'ECONNREFUSED' ||
    code === 'UND_ERR_CONNECT_TIMEOUT' ||
    code === 'ENOTFOUND' ||
    code === 'EAI_AGAIN' ||
    code === 'EHOSTUNREACH' ||
    code === 'ENETUNREACH'
  );
}
