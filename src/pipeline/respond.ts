// Sends Ceph's answer to the client. Responses are streamed: straight into Node's ServerResponse
// when running under @hono/node-server, as a web Response otherwise (in-process tests). For
// audited requests the first bytes (up to a bound) are inspected for Ceph's error or task name.

import { Readable } from 'node:stream';
import type { Context } from 'hono';
import { clientResponseHeaders } from '../proxy/headers.ts';
import type { AppEnv } from '../server/env.ts';
import type { UpstreamResponse } from './types.ts';

const INSPECT_LIMIT = 64 * 1024;

export interface RespondOptions {
  readonly inspect: boolean;
  /** Called with the inspected body (or null when it was larger than the bound) before the client is answered. */
  readonly onInspected: (body: Buffer | null) => Promise<void>;
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

/**
 * Ceph's error bodies carry Ceph's own request id (`{"status", "detail", "request_id"}`), or none
 * (`{"detail", "code", "component"}`). Every answer names the gateway's request id, the one in its
 * logs and audit record; Ceph's stays alongside as `ceph_request_id`. Other bodies pass unchanged.
 */
export function withGatewayRequestId(body: Buffer, requestId: string): Buffer {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return body;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return body;
  const o = parsed as Record<string, unknown>;
  const cephId = o.request_id;
  o.request_id = requestId;
  if (cephId !== undefined && cephId !== requestId) o.ceph_request_id = cephId;
  return Buffer.from(JSON.stringify(o));
}

/** Returns a Response for in-process use, or null after writing to the Node response directly. */
export async function sendUpstreamResponse(c: Context<AppEnv>, up: UpstreamResponse, opts: RespondOptions): Promise<Response | null> {
  const headers = clientResponseHeaders(up.headers);
  let body: Readable = up.body;
  let length: number | null = null;
  const upstreamLength = up.headers['content-length'];
  const requestId = c.get('state').requestId;
  if (opts.inspect || up.status >= 400) {
    const p = await peek(up.body, INSPECT_LIMIT);
    if (opts.inspect) await opts.onInspected(p.head);
    if (p.whole && p.head) {
      const whole = up.status >= 400 ? withGatewayRequestId(p.head, requestId) : p.head;
      body = Readable.from([whole]);
      length = whole.length;
    } else body = p.replay;
  } else if (typeof upstreamLength === 'string' && /^\d+$/.test(upstreamLength)) {
    length = Number(upstreamLength);
  }
  if (length !== null) headers['content-length'] = String(length);
  headers['x-request-id'] = requestId;

  const outgoing = c.env?.outgoing;
  if (outgoing && c.req.method === 'HEAD') {
    outgoing.writeHead(up.status, headers);
    body.resume();
    outgoing.end();
    return null;
  }
  if (outgoing) {
    outgoing.writeHead(up.status, headers);
    // Plain pipe, not stream.pipeline(): pipeline() builds and aborts an AbortSignal per call, which
    // was ~7% of a proxied request in the bench profile. Errors are handled explicitly instead:
    // Ceph breaking off mid-body or the client going away closes the other side; nothing to answer.
    body.once('error', () => outgoing.destroy());
    outgoing.once('close', () => {
      if (!body.readableEnded) body.destroy();
    });
    body.pipe(outgoing);
    return null;
  }
  const noBody = up.status === 204 || up.status === 304 || c.req.method === 'HEAD';
  const h = new Headers();
  for (const [k, v] of Object.entries(headers)) for (const one of Array.isArray(v) ? v : [v]) h.append(k, one);
  if (noBody) {
    body.resume();
    return new Response(null, { status: up.status, headers: h });
  }
  return new Response(Readable.toWeb(body) as ReadableStream, { status: up.status, headers: h });
}
