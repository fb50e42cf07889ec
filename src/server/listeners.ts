// The two listeners: the public one (HTTP or HTTPS) serving the gateway app, and the admin one
// (default 127.0.0.1) serving /healthz, /readyz and /metrics. Node's own parser limits (header
// size, header timeout, CL+TE) are answered in Ceph's JSON error shape by the clientError handler.

import { readFileSync } from 'node:fs';
import { createServer, type RequestListener, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import { finished } from 'node:stream';
import { getRequestListener } from '@hono/node-server';
import type { Hono } from 'hono';
import type { Config } from '../config/schema.ts';
import { type ErrorCode, rawErrorResponse } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import { newRequestId } from '../intake/request-id.ts';
import type { AppEnv } from '../web/env.ts';

/** Node parser errors -> the gateway's status, code and a detail that says what was wrong. */
export function clientErrorStatus(code: string | undefined, reason: string): [number, ErrorCode, string] {
  switch (code) {
    case 'HPE_HEADER_OVERFLOW':
      return [431, 'header_too_large', 'request headers too large'];
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return [408, 'request_timeout', 'request headers not received in time'];
    case 'HPE_UNEXPECTED_CONTENT_LENGTH':
      // llhttp reports two Content-Length headers (equal or not) under this code: RFC 9112 §6.3 says refuse.
      return [400, 'conflicting_length', /Duplicate/i.test(reason) ? 'Content-Length given more than once' : 'unexpected Content-Length'];
    case 'HPE_INVALID_TRANSFER_ENCODING':
      // RFC 9112 §6.3: Content-Length with Transfer-Encoding is a smuggling vector; refuse it.
      return /Content-Length/i.test(reason)
        ? [400, 'conflicting_length', 'Content-Length and Transfer-Encoding together']
        : [400, 'bad_request', 'invalid Transfer-Encoding'];
    case 'HPE_INVALID_CONTENT_LENGTH':
      return [400, 'bad_request', 'invalid Content-Length'];
    default:
      return [400, 'bad_request', 'malformed HTTP request'];
  }
}

/** The web app (hono) as a Node request listener. Requests @hono/node-server refuses before the app
 *  runs (a target or Host it cannot parse) still get Ceph's error shape with a code and a request id. */
export function webRequestListener(app: Hono<AppEnv> | Hono, log: Logger): RequestListener {
  return getRequestListener(app.fetch, {
    overrideGlobalObjects: false,
    errorHandler: () => {
      const requestId = newRequestId();
      log.info({ request_id: requestId, status: 400, code: 'invalid_path' }, 'request refused by the HTTP adapter');
      return new Response(JSON.stringify({ status: '400 Bad Request', detail: 'malformed request target', request_id: requestId, code: 'invalid_path' }), {
        status: 400,
        headers: { 'content-type': 'application/json', 'x-request-id': requestId, connection: 'close' },
      });
    },
  });
}

/** The public listener (HTTP or HTTPS) with the configured limits, serving `handle` (server/request-listener.ts). */
export function createPublicServer(handle: RequestListener, config: Config, log: Logger): Server {
  const limits = config.limits;
  const options = {
    maxHeaderSize: limits.max_header_bytes,
    headersTimeout: limits.header_timeout_ms,
    requestTimeout: limits.header_timeout_ms + limits.body_timeout_ms,
    // Node checks the timeouts above on this interval (default 30 s): make it fine enough to honour them.
    connectionsCheckingInterval: Math.max(100, Math.min(1000, Math.floor(limits.header_timeout_ms / 4))),
    keepAliveTimeout: 65_000,
  };
  const server: Server = config.server.tls
    ? createHttpsServer({ ...options, cert: readFileSync(config.server.tls.cert_file), key: readFileSync(config.server.tls.key_file) }, handle)
    : createServer(options, handle);
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const [status, code, detail] = clientErrorStatus(err.code, (err as { reason?: string }).reason ?? err.message);
    const requestId = newRequestId();
    log.info({ request_id: requestId, status, code, client: socket.remoteAddress }, 'request refused by the HTTP parser');
    afterAnswersInFlight(socket, () => {
      if (socket.writable) socket.end(rawErrorResponse(status, code, detail, requestId));
      else socket.destroy();
    });
  });
  return server;
}

/**
 * Runs `then` once every request parsed before the bad one has been answered on this connection.
 * HTTP/1.1 pipelining (RFC 9112 §9.3.2) answers in request order: a valid mutation followed by
 * malformed bytes is carried out, so its client must read its answer before the 400, not only the 400.
 * Node keeps the response being written in `socket._httpMessage` and hands the next queued one to the
 * socket when it finishes.
 */
function afterAnswersInFlight(socket: Socket, then: () => void): void {
  const current = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage;
  if (current === undefined || current === null) {
    then();
    return;
  }
  finished(current, () => setImmediate(() => afterAnswersInFlight(socket, then)));
}

export function createAdminServer(app: Hono): Server {
  return createServer(getRequestListener(app.fetch, { overrideGlobalObjects: false }));
}

export function listen(server: Server, host: string, port: number): Promise<{ host: string; port: number }> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const addr = server.address();
      resolve(typeof addr === 'object' && addr ? { host: addr.address, port: addr.port } : { host, port });
    });
  });
}

/** Stop accepting, let in-flight requests finish up to `graceMs`, then cut what is left. */
export async function closeGracefully(server: Server, graceMs: number): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  const timer = setTimeout(() => server.closeAllConnections(), graceMs);
  await closed;
  clearTimeout(timer);
}
