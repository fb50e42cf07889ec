// One access-log line per request (JSON, in pino's format, on the logger's destination): request id,
// principal, route template, decision, status and durations, plus the request counters and latency
// histogram. Never headers or bodies.
//
// The line is written by hand rather than through pino's per-key machinery: it is the one log call made
// for every request, its keys are fixed and none of them can hold a secret (so redaction has nothing to
// do), and pino's serialisation was the largest single stage of an authorised GET (bench/stages.ts). The
// result is the line pino itself writes: same level, time, base fields and message (tested).

import pino from 'pino';
import type { Logger } from '../core/logger.ts';
import type { Metrics } from '../core/metrics.ts';
import type { RequestState } from '../core/request-state.ts';

/** The trace id of a W3C `traceparent` (version-traceid-parentid-flags), which is also sent upstream as is. */
function traceId(traceparent: string | undefined): string | undefined {
  const m = traceparent === undefined ? null : /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/.exec(traceparent);
  return m?.[1];
}

const INFO = 30;

/** Writes pino's JSON line `{"level":30,"time":...,<base fields>,<fields>,"msg":"request"}` straight to its destination. */
type LineWriter = (fields: string) => void;

const writers = new WeakMap<object, LineWriter | null>();

/** The fast writer of a pino logger at info level, or null (another logger, or info is off). */
function lineWriterOf(log: Logger): LineWriter | null {
  const p = log as unknown as Record<symbol, unknown>;
  if ((p[pino.symbols.levelValSym] as number | undefined) === undefined || (p[pino.symbols.levelValSym] as number) > INFO) return null;
  let writer = writers.get(log);
  if (writer === undefined) {
    const stream = p[pino.symbols.streamSym] as { write(line: string): unknown } | undefined;
    const time = p[pino.symbols.timeSym] as (() => string) | undefined;
    const bindings = p[pino.symbols.chindingsSym] as string | undefined;
    const plain = p[pino.symbols.mixinSym] === undefined && typeof time === 'function' && typeof bindings === 'string' && stream !== undefined;
    writer = plain ? (fields) => stream.write(`{"level":${INFO}${time()}${bindings}${fields},"msg":"request"}\n`) : null;
    writers.set(log, writer);
  }
  return writer;
}

/** Quotes, backslashes, control characters and lone surrogates need JSON.stringify; the usual value does not. */
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;
const str = (key: string, v: string | undefined): string =>
  v === undefined ? '' : NEEDS_ESCAPE.test(v) ? `,"${key}":${JSON.stringify(v)}` : `,"${key}":"${v}"`;
const num = (key: string, v: number | undefined): string => (v === undefined ? '' : `,"${key}":${v}`);
const round2 = (ms: number): number => Math.round(ms * 100) / 100;

/** Writes the access-log line and the request metrics of one finished request. */
export function logRequest(
  deps: { readonly log: Logger; readonly metrics: Metrics },
  state: RequestState | undefined,
  method: string,
  status: number,
  startedMs: number,
): void {
  const ms = performance.now() - startedMs;
  const route = state?.route?.template ?? (state ? 'unmatched' : 'invalid');
  const decision = state?.decision?.effect ?? 'none';
  deps.metrics.requests.inc({ route, method, decision, status: String(status) });
  deps.metrics.requestSeconds.observe({ method }, ms / 1000);
  if (state?.errorCode !== undefined) deps.metrics.refusals.inc({ status: String(status), code: state.errorCode });

  const trace = state?.trace?.traceId ?? traceId(state?.headers.get('traceparent')?.[0]);
  const writer = lineWriterOf(deps.log);
  if (writer === null) {
    deps.log.info(
      {
        request_id: state?.requestId,
        method,
        path: state?.target.rawPath,
        route,
        cluster: state?.route?.cluster,
        principal: state?.principal?.id,
        auth: state?.principal?.method,
        decision,
        rule: state?.decision?.ruleId ?? undefined,
        status,
        code: state?.errorCode,
        shared: state?.shared,
        client: state?.clientIp,
        ms: round2(ms),
        upstream_ms: state?.upstreamMs === undefined ? undefined : round2(state.upstreamMs),
        trace_id: trace,
      },
      'request',
    );
    return;
  }
  writer(
    str('request_id', state?.requestId) +
      str('method', method) +
      str('path', state?.target.rawPath) +
      str('route', route) +
      str('cluster', state?.route?.cluster) +
      str('principal', state?.principal?.id) +
      str('auth', state?.principal?.method) +
      str('decision', decision) +
      str('rule', state?.decision?.ruleId ?? undefined) +
      num('status', status) +
      str('code', state?.errorCode) +
      str('shared', state?.shared) +
      str('client', state?.clientIp) +
      num('ms', round2(ms)) +
      num('upstream_ms', state?.upstreamMs === undefined ? undefined : round2(state.upstreamMs)) +
      str('trace_id', trace),
  );
}
