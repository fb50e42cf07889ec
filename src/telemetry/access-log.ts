// One access-log line per request (pino, JSON): request id, principal, route template, decision,
// status and durations, plus the request counters and latency histogram. Never headers or bodies.

import type { Logger } from '../core/logger.ts';
import type { Metrics } from '../core/metrics.ts';
import type { RequestState } from '../core/request-state.ts';

/** The trace id of a W3C `traceparent` (version-traceid-parentid-flags), which is also sent upstream as is. */
function traceId(traceparent: string | undefined): string | undefined {
  const m = traceparent === undefined ? null : /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/.exec(traceparent);
  return m?.[1];
}

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
      rule: state?.decision?.ruleId,
      status,
      code: state?.errorCode,
      shared: state?.shared,
      client: state?.clientIp,
      ms: Math.round(ms * 100) / 100,
      upstream_ms: state?.upstreamMs === undefined ? undefined : Math.round(state.upstreamMs * 100) / 100,
      trace_id: state?.trace?.traceId ?? traceId(state?.headers.get('traceparent')?.[0]),
    },
    'request',
  );
}
