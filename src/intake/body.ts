// Reads a request body into one Buffer, bounded in size (413) and in time (408). Bodies are read
// whole because policy and audit act on them, and the bytes inspected must be exactly the bytes
// forwarded (docs/security.md class 5); Ceph API bodies are small JSON documents. Responses are streamed.

import type { Readable } from 'node:stream';
import { GatewayError } from '../core/errors.ts';
import { MUTATING_METHODS, type RequestHeaders } from '../core/http.ts';

export interface BodyLimits {
  readonly maxBytes: number;
  readonly timeoutMs: number;
}

function tooLarge(max: number): GatewayError {
  return new GatewayError(413, 'body_too_large', `request body exceeds ${max} bytes`, { headers: { Connection: 'close' } });
}

/**
 * Returns the body, or null when the request has none. `contentLength` is the parsed header
 * (Node's parser already refused Content-Length together with Transfer-Encoding).
 */
export async function readBody(stream: Readable, contentLength: number | null, chunked: boolean, limits: BodyLimits): Promise<Buffer | null> {
  if (contentLength === null && !chunked) return null;
  if (contentLength !== null && contentLength > limits.maxBytes) {
    stream.resume();
    throw tooLarge(limits.maxBytes);
  }
  if (contentLength === 0) return Buffer.alloc(0);
  return await new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const finish = (err: GatewayError | null, value?: Buffer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('error', onError);
      stream.off('aborted', onAborted);
      if (err) {
        stream.resume(); // discard the rest; the error response closes the connection
        reject(err);
      } else resolve(value as Buffer);
    };
    const timer = setTimeout(
      () => finish(new GatewayError(408, 'request_timeout', `request body not received within ${limits.timeoutMs} ms`, { headers: { Connection: 'close' } })),
      limits.timeoutMs,
    );
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limits.maxBytes) return finish(tooLarge(limits.maxBytes));
      chunks.push(chunk);
    };
    const onEnd = () => finish(null, chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size));
    const onError = (e: Error) => finish(new GatewayError(400, 'bad_request', 'request body could not be read', { cause: e }));
    const onAborted = () => finish(new GatewayError(400, 'bad_request', 'client aborted the request body'));
    stream.on('data', onData);
    stream.on('end', onEnd);
    stream.on('error', onError);
    stream.on('aborted', onAborted);
  });
}

/**
 * The body of a request as the gateway reads every body: null when it has none (no Content-Length,
 * no Transfer-Encoding), refused when its method takes none (a GET body: parsers disagree on it), when it is compressed (the bytes decided
 * on must be the bytes Ceph reads) or when its length is not a number; else read whole within limits.
 */
export async function readRequestBody(stream: Readable, headers: RequestHeaders, method: string, limits: BodyLimits): Promise<Buffer | null> {
  const cl = headers.get('content-length')?.[0];
  const chunked = headers.has('transfer-encoding');
  if (cl === undefined && !chunked) return null;
  if (!MUTATING_METHODS.has(method)) throw new GatewayError(400, 'bad_request', `a ${method} request must not have a body`);
  if (headers.has('content-encoding')) throw new GatewayError(415, 'unsupported_media_type', 'compressed request bodies are not accepted');
  const length = cl === undefined ? null : Number(cl);
  if (length !== null && (!Number.isSafeInteger(length) || length < 0)) throw new GatewayError(400, 'bad_request', 'invalid Content-Length');
  return await readBody(stream, length, chunked, limits);
}
