// The public listener's request handler: the Ceph API (`/api/...`, `/ui-api/...`, `/clusters/<name>/...`)
// and, where the default cluster serves it, the dashboard UI's files at `/` go through the pipeline
// straight from Node's request, with one intake, one error mapping and one access-log line; everything
// else (the gateway's own pages and APIs under /gateway) goes to the web app.

import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { isUiAssetPath } from '../ceph/ui-assets.ts';
import { errorResponse } from '../core/error-response.ts';
import type { AnswerHeaders, Exchange } from '../core/exchange.ts';
import type { Logger } from '../core/logger.ts';
import type { Metrics } from '../core/metrics.ts';
import type { RequestState } from '../core/request-state.ts';
import type { RequestTracer } from '../core/trace.ts';
import { headersFromRaw } from '../intake/headers.ts';
import { checkHeaders, type IntakeDeps, newRequestState } from '../intake/request-state.ts';
import { parseRequestTarget } from '../intake/request-target.ts';
import { logRequest } from '../telemetry/access-log.ts';
import { endRequestTrace } from '../telemetry/tracing.ts';
import { lingerAfterAnswer } from './lingering-close.ts';

const PROXIED_PREFIXES = ['/api/', '/ui-api/', '/clusters/'];

export interface RequestListenerDeps extends IntakeDeps {
  readonly log: Logger;
  readonly metrics: Metrics;
  /** The pipeline (pipeline/handle.ts). */
  readonly proxy: (x: Exchange) => Promise<void>;
  /** The gateway's own pages and APIs (web/app.ts served by @hono/node-server). */
  readonly web: RequestListener;
  /** The default cluster's dashboard UI is served at `/` (ceph/ui-assets.ts). */
  readonly uiAtRoot: boolean;
  /** Set when tracing is on (telemetry/tracing.ts). */
  readonly tracer?: RequestTracer | null;
}

/** True for the paths the pipeline serves: the Ceph API, other clusters, and (when served at `/`) the UI's files. */
export function isProxiedPath(url: string, uiAtRoot: boolean): boolean {
  if (PROXIED_PREFIXES.some((p) => url.startsWith(p))) return true;
  if (!uiAtRoot) return false;
  const path = url.split('?', 1)[0] as string;
  return isUiAssetPath(path === '/' ? [] : path.slice(1).split('/'));
}

export function createRequestListener(deps: RequestListenerDeps): RequestListener {
  async function proxy(incoming: IncomingMessage, outgoing: ServerResponse, started: number): Promise<void> {
    const state: RequestState = newRequestState(deps, headersFromRaw(incoming.rawHeaders), incoming.socket.remoteAddress);
    const method = incoming.method ?? 'GET';
    if (deps.tracer) {
      const path = (incoming.url ?? '').split('?', 1)[0] as string;
      state.trace = deps.tracer.start({ method, path, headers: state.headers, clientIp: state.clientIp, requestId: state.requestId });
    }
    outgoing.once('close', () => {
      endRequestTrace(state, outgoing.statusCode);
      logRequest(deps, state, method, outgoing.statusCode, started);
    });
    try {
      checkHeaders(state.headers);
      state.target = parseRequestTarget(incoming.url ?? '');
      await deps.proxy(exchangeOf(state, method, incoming, outgoing));
    } catch (err) {
      if (outgoing.headersSent) {
        outgoing.destroy();
        return;
      }
      const { status, body, headers } = errorResponse(err, state, deps.log);
      const text = Buffer.from(JSON.stringify(body));
      writeHead(incoming, outgoing, status, { ...headers, 'Content-Type': 'application/json', 'Content-Length': String(text.length) });
      outgoing.end(text);
    }
  }

  return function handleRequest(incoming, outgoing) {
    if (!isProxiedPath(incoming.url ?? '', deps.uiAtRoot)) {
      deps.web(incoming, outgoing);
      return;
    }
    const started = performance.now();
    proxy(incoming, outgoing, started).catch((err: unknown) => {
      deps.log.error({ err }, 'proxied request failed');
      outgoing.destroy();
    });
  };
}

function exchangeOf(state: RequestState, method: string, incoming: IncomingMessage, outgoing: ServerResponse): Exchange {
  return {
    state,
    method,
    secure: (incoming.socket as { encrypted?: boolean }).encrypted === true,
    body: incoming,
    get answered() {
      return outgoing.headersSent;
    },
    send(status: number, headers: AnswerHeaders, body: Readable | Buffer | null) {
      writeHead(incoming, outgoing, status, headers);
      if (body === null || Buffer.isBuffer(body)) {
        outgoing.end(body ?? undefined);
        return;
      }
      // Plain pipe, not stream.pipeline(): pipeline() builds and aborts an AbortSignal per call, which
      // was ~7% of a proxied request in the bench profile. Ceph breaking off mid-body or the client
      // going away closes the other side; there is nothing left to answer.
      body.once('error', () => outgoing.destroy());
      outgoing.once('close', () => {
        if (!body.readableEnded) body.destroy();
      });
      body.pipe(outgoing);
    },
  };
}

/** Every answer's head: an answer that ends the connection while the body is still arriving lingers, so the client reads it. */
function writeHead(incoming: IncomingMessage, outgoing: ServerResponse, status: number, headers: AnswerHeaders): void {
  const closes = Object.entries(headers).some(([name, value]) => name.toLowerCase() === 'connection' && /^close$/i.test(String(value)));
  if (closes && !incoming.complete) lingerAfterAnswer(incoming.socket);
  outgoing.writeHead(status, headers);
}
