// Sends Ceph's answer to the client, streamed. For audited requests the first bytes (up to a bound)
// are inspected for Ceph's error or task name; Ceph's error bodies get the gateway's request id.

import { Readable } from 'node:stream';
import type { Exchange } from '../core/exchange.ts';
import type { UpstreamResponse } from '../core/upstream.ts';
import { withGatewayRequestId } from '../proxy/error-bodies.ts';
import { clientResponseHeaders } from '../proxy/headers.ts';

const INSPECT_LIMIT = 64 * 1024;

export interface AnswerOptions {
  readonly inspect: boolean;
  /** Called with the inspected body (or null when it was larger than the bound) before the client is answered. */
  readonly onInspected: (body: Buffer | null) => void;
  /** Headers the gateway adds to Ceph's answer (the rate-limit fields), or null. */
  readonly extraHeaders?: Readonly<Record<string, string>> | null;
}

/** Reads up to `limit` bytes; returns them and a stream yielding the whole body again. */
async function peek(body: Readable, limit: number): Promise<{ head: Buffer | null; replay: Readable; whole: boolean }> {
  const chunks: Buffer[] = [];
  let size = 0;
  const it = body[Symbol.asyncIterator]();
  for (;;) {
    const next = await it.next();
    if (next.done) {
      const all = Buffer.concat(chunks, size);
      return { head: all, replay: Readable.from([all]), whole: true };
    }
    const chunk = next.value as Buffer;
    chunks.push(chunk);
    size += chunk.length;
    if (size > limit) {
      async function* rest() {
        for (const c of chunks) yield c;
        for (;;) {
          const n = await it.next();
          if (n.done) return;
          yield n.value as Buffer;
        }
      }
      return { head: null, replay: Readable.from(rest()), whole: false };
    }
  }
}

export async function sendUpstreamAnswer(x: Exchange, up: UpstreamResponse, opts: AnswerOptions): Promise<void> {
  const headers = clientResponseHeaders(up.headers);
  const requestId = x.state.requestId;
  let body: Readable | Buffer = up.body;
  let length: number | null = null;
  const upstreamLength = up.headers['content-length'];
  if (opts.inspect || up.status >= 400) {
    const p = await peek(up.body, INSPECT_LIMIT);
    if (opts.inspect) opts.onInspected(p.head);
    if (p.whole && p.head) {
      body = up.status >= 400 ? withGatewayRequestId(p.head, requestId) : p.head;
      length = body.length;
    } else body = p.replay;
  } else if (typeof upstreamLength === 'string' && /^\d+$/.test(upstreamLength)) {
    length = Number(upstreamLength);
  }
  if (length !== null) headers['content-length'] = String(length);
  headers['x-request-id'] = requestId;
  if (opts.extraHeaders) Object.assign(headers, opts.extraHeaders);
  if (x.method === 'HEAD') {
    // The GET's head only (RFC 9110 §9.3.2); its body is read and dropped.
    if (body instanceof Readable) body.resume();
    x.send(up.status, headers, null);
    return;
  }
  x.send(up.status, headers, body);
}
