// One proxied HTTP request and its answer as the pipeline (and the handlers it calls, such as the
// Ceph-native login) see it: the request state, the method, the body as a stream, and a sink for the
// answer. No framework types: server/request-listener.ts builds it from Node's request and response.

import type { Readable } from 'node:stream';
import type { RouteMatch } from './catalogue.ts';
import type { RequestState } from './request-state.ts';

export type AnswerHeaders = Record<string, string | string[]>;

export interface Exchange {
  readonly state: RequestState;
  /** The method as received (HEAD included; the pipeline decides it as GET). */
  readonly method: string;
  /** True when the client's connection is TLS (the public scheme when server.public_url is unset). */
  readonly secure: boolean;
  /** The request body as received; read it through intake/body.ts (bounded in size and time). */
  readonly body: Readable;
  /** Sends the answer: head, then the body streamed (Readable), whole (Buffer) or none. */
  send(status: number, headers: AnswerHeaders, body: Readable | Buffer | null): void;
  /** True once the answer's head has left: a later failure can only cut the connection. */
  readonly answered: boolean;
}

/**
 * A request the gateway answers itself instead of forwarding it (Ceph's own auth endpoints for
 * Ceph-native logins and for the dashboard UI's login dance). Resolves true when it answered, false
 * when the request is not its to answer and goes on through the pipeline.
 */
export type LocalAnswer = (x: Exchange, route: RouteMatch) => Promise<boolean>;

/** Sends a JSON answer (errors are thrown as GatewayError instead, and answered by the entry point). */
export function sendJson(
  x: Exchange,
  status: number,
  body: unknown,
  options: string | { readonly contentType?: string; readonly headers?: AnswerHeaders } = {},
): void {
  // A string is the content type (Ceph's own media type for a Ceph client), the common case.
  const o = typeof options === 'string' ? { contentType: options } : options;
  const text = Buffer.from(JSON.stringify(body));
  x.send(
    status,
    {
      ...o.headers,
      'content-type': o.contentType ?? 'application/json',
      'content-length': String(text.length),
      'cache-control': 'no-store',
      'x-request-id': x.state.requestId,
    },
    text,
  );
}
