// Request ids: a UUIDv7 generated per request, or the caller's X-Request-Id when the peer is a
// trusted proxy and the value is a safe token. Returned to the client and sent upstream.

import { randomUUID } from 'node:crypto';

const SAFE_ID = /^[A-Za-z0-9._:-]{8,128}$/;

/**
 * A UUIDv7 (RFC 9562 §5.7: 48 bits of Unix time in ms, version 7, 74 random bits): a random v4 from
 * Node's cached entropy pool with its first 48 bits replaced by the time and its version nibble by 7.
 * Several times cheaper than a UUIDv7 library call per request, which drew fresh random bytes each time.
 */
export function newRequestId(): string {
  const random = randomUUID(); // xxxxxxxx-xxxx-4xxx-Vxxx-xxxxxxxxxxxx, variant already RFC 9562's
  const ms = Date.now().toString(16).padStart(12, '0');
  return `${ms.slice(0, 8)}-${ms.slice(8)}-7${random.slice(15)}`;
}

/** Accept the client's id only from a trusted proxy and only if it cannot inject anything. */
export function chooseRequestId(received: readonly string[] | undefined, fromTrustedProxy: boolean): string {
  if (fromTrustedProxy && received && received.length === 1 && SAFE_ID.test(received[0] as string)) return received[0] as string;
  return newRequestId();
}
