// Request ids: a UUIDv7 generated per request, or the caller's X-Request-Id when the peer is a
// trusted proxy and the value is a safe token. Returned to the client and sent upstream.

import { v7 as uuidv7 } from 'uuid';

const SAFE_ID = /^[A-Za-z0-9._:-]{8,128}$/;

export function newRequestId(): string {
  return uuidv7();
}

/** Accept the client's id only from a trusted proxy and only if it cannot inject anything. */
export function chooseRequestId(received: readonly string[] | undefined, fromTrustedProxy: boolean): string {
  if (fromTrustedProxy && received && received.length === 1 && SAFE_ID.test(received[0] as string)) return received[0] as string;
  return newRequestId();
}
