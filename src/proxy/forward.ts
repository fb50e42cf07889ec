// Sends one request upstream with undici (keep-alive pools per origin) and returns the response
// with its body as a stream: nothing is buffered here. Network failures go through the error table.

import { readFileSync } from 'node:fs';
import { Agent, type Dispatcher } from 'undici';
import type { UpstreamResponse } from '../core/upstream.ts';
import { mapUpstreamError } from './upstream-errors.ts';

export interface ForwardOptions {
  readonly dispatcher: Dispatcher;
  readonly origin: string;
  readonly method: string;
  readonly path: string;
  readonly headers: Record<string, string | string[]>;
  readonly body: Buffer | null;
  readonly signal?: AbortSignal;
  readonly headersTimeoutMs: number;
  readonly bodyTimeoutMs: number;
}

export interface DispatcherOptions {
  readonly connectTimeoutMs: number;
  readonly caFile?: string | undefined;
  /** Skips certificate verification. Only by explicit configuration; the caller logs it loudly. */
  readonly insecureSkipVerify?: boolean | undefined;
  readonly connections?: number | undefined;
}

/** One keep-alive Agent (a pool per origin) for a cluster's dashboards. */
export function createDispatcher(o: DispatcherOptions): Dispatcher {
  return new Agent({
    connections: o.connections ?? 128,
    keepAliveTimeout: 30_000,
    connect: {
      timeout: o.connectTimeoutMs,
      ...(o.caFile ? { ca: readFileSync(o.caFile) } : {}),
      rejectUnauthorized: o.insecureSkipVerify !== true,
    },
  });
}

export async function forward(o: ForwardOptions): Promise<UpstreamResponse> {
  try {
    const res = await o.dispatcher.request({
      origin: o.origin,
      path: o.path,
      method: o.method as Dispatcher.HttpMethod,
      headers: o.headers,
      body: o.body,
      signal: o.signal ?? null,
      headersTimeout: o.headersTimeoutMs,
      bodyTimeout: o.bodyTimeoutMs,
    });
    return { status: res.statusCode, headers: res.headers as Record<string, string | string[]>, body: res.body };
  } catch (err) {
    throw mapUpstreamError(err);
  }
}
