// Tracing as the pipeline sees it: one span per request (continued from the client's `traceparent`) and a
// child span per stage (authenticate, decide, audit intent, upstream call, audit outcome). The
// OpenTelemetry side is telemetry/tracing.ts; with tracing off there is no RequestTrace and nothing is made.

import type { RequestHeaders } from './http.ts';

export type StageName = 'authenticate' | 'decide' | 'audit.intent' | 'upstream' | 'audit.outcome';

export type TraceAttributes = Readonly<Record<string, string | number | boolean | undefined>>;

/** The span of one stage, while it runs. */
export interface StageSpan {
  set(attributes: TraceAttributes): void;
  /** W3C trace-context headers (`traceparent`, `tracestate`) naming this span, for a call it makes. */
  contextHeaders(): Record<string, string>;
}

export interface RequestTrace {
  /** The trace id (32 hex digits), for the access log. */
  readonly traceId: string;
  /** False when the sampler dropped this request: its stages start no spans and nothing is annotated. */
  readonly recorded: boolean;
  /**
   * Runs `fn` as a child span of the request's span and returns what it returns; the span ends when `fn`
   * returns or, for a promise, settles. A thrown error or a rejection marks the span failed.
   */
  stage<T>(name: StageName, fn: (span: StageSpan) => T): T;
  /** Attributes of the request's span; `route` also names the span (`POST /api/pool`). */
  annotate(attributes: TraceAttributes & { readonly route?: string }): void;
  /** Ends the request's span with the status the client got. */
  end(status: number): void;
}

export interface RequestTracer {
  start(request: {
    readonly method: string;
    readonly path: string;
    readonly headers: RequestHeaders;
    readonly clientIp: string;
    readonly requestId: string;
  }): RequestTrace;
  /** Sends what is still buffered; called once, at shutdown. */
  shutdown(): Promise<void>;
}

const NO_SPAN: StageSpan = { set: () => undefined, contextHeaders: () => ({}) };

/** Runs a stage in its span when the request is traced, else just runs it. */
export function inStage<T>(trace: RequestTrace | undefined, name: StageName, fn: (span: StageSpan) => T): T {
  return trace === undefined ? fn(NO_SPAN) : trace.stage(name, fn);
}
