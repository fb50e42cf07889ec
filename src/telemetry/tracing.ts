// OpenTelemetry tracing of the Ceph API path (docs/observability.md, "Tracing"): a SERVER span per request,
// continued from the client's `traceparent`, with a child span per stage, and the upstream span's context
// sent to Ceph. Configured only by the standard OTEL_* environment variables; off unless an exporter or
// an OTLP endpoint is set. No global state: the tracer is handed to the request listener, and the W3C
// propagator is used directly (no context manager is needed, parents are passed explicitly).

import { type Attributes, type Context, ROOT_CONTEXT, type Span, SpanKind, SpanStatusCode, type Tracer, trace } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter as OtlpHttpJsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as OtlpProtobufExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { defaultResource, detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import {
  ATTR_CLIENT_ADDRESS,
  ATTR_ERROR_TYPE,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HTTP_ROUTE,
  ATTR_SERVICE_NAME,
  ATTR_SERVICE_VERSION,
  ATTR_URL_PATH,
} from '@opentelemetry/semantic-conventions';
import type { RequestHeaders } from '../core/http.ts';
import type { Logger } from '../core/logger.ts';
import type { RequestState } from '../core/request-state.ts';
import type { RequestTrace, RequestTracer, StageName, StageSpan, TraceAttributes } from '../core/trace.ts';
import { gatewayVersion } from '../core/version.ts';

const propagator = new W3CTraceContextPropagator();
const fromHeaders = {
  keys: (h: RequestHeaders) => [...h.keys()],
  get: (h: RequestHeaders, key: string) => h.get(key)?.[0],
};
const intoRecord = { set: (carrier: Record<string, string>, key: string, value: string) => void (carrier[key] = value) };

const clean = (a: TraceAttributes): Attributes => Object.fromEntries(Object.entries(a).filter(([, v]) => v !== undefined)) as Attributes;

function failed(span: Span, err: unknown): void {
  span.recordException(err instanceof Error ? err : String(err));
  span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
  const code = (err as { code?: unknown } | null)?.code;
  span.setAttribute(ATTR_ERROR_TYPE, typeof code === 'string' ? code : err instanceof Error ? err.name : 'error');
}

/** The pipeline's tracer over an OpenTelemetry tracer (the SDK's, or a test's with an in-memory exporter). */
export function createRequestTracer(tracer: Tracer, shutdown: () => Promise<void> = async () => undefined): RequestTracer {
  return {
    shutdown,
    start(r) {
      const parent = propagator.extract(ROOT_CONTEXT, r.headers, fromHeaders);
      const span = tracer.startSpan(
        r.method,
        {
          kind: SpanKind.SERVER,
          attributes: { [ATTR_HTTP_REQUEST_METHOD]: r.method, [ATTR_URL_PATH]: r.path, [ATTR_CLIENT_ADDRESS]: r.clientIp, 'cephgate.request_id': r.requestId },
        },
        parent,
      );
      return requestTrace(tracer, span, trace.setSpan(parent, span), r.method);
    },
  };
}

/** Injects a context's span as `traceparent` (and `tracestate`) headers for Ceph. */
function headersOf(ctx: Context): Record<string, string> {
  const out: Record<string, string> = {};
  propagator.inject(ctx, out, intoRecord);
  return out;
}

function requestTrace(tracer: Tracer, span: Span, ctx: Context, method: string): RequestTrace {
  // A request the sampler dropped starts no stage spans (they would record nothing): Ceph still gets its
  // context, with the sampled flag off, so a trace is never started downstream for it either.
  const unsampled: StageSpan = { set: () => undefined, contextHeaders: () => headersOf(ctx) };
  const recorded = span.isRecording();
  return {
    traceId: span.spanContext().traceId,
    recorded,
    stage<T>(name: StageName, fn: (s: StageSpan) => T): T {
      if (!recorded) return fn(unsampled);
      const child = tracer.startSpan(name, { kind: name === 'upstream' ? SpanKind.CLIENT : SpanKind.INTERNAL }, ctx);
      const handle: StageSpan = {
        set: (a) => child.setAttributes(clean(a)),
        contextHeaders: () => headersOf(trace.setSpan(ROOT_CONTEXT, child)),
      };
      let result: T;
      try {
        result = fn(handle);
      } catch (err) {
        failed(child, err);
        child.end();
        throw err;
      }
      if (result instanceof Promise) {
        return result.then(
          (value) => {
            child.end();
            return value;
          },
          (err: unknown) => {
            failed(child, err);
            child.end();
            throw err;
          },
        ) as T;
      }
      child.end();
      return result;
    },
    annotate({ route, ...rest }) {
      if (!recorded) return;
      if (route !== undefined) {
        span.updateName(`${method} ${route}`);
        span.setAttribute(ATTR_HTTP_ROUTE, route);
      }
      span.setAttributes(clean(rest));
    },
    end(status) {
      if (!recorded) {
        span.end();
        return;
      }
      span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, status);
      // Server spans: only 5xx are errors (OpenTelemetry HTTP semantic conventions); 4xx are the client's.
      if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    },
  };
}

/** Ends a request's span (when traced) with what the stages learnt: route, principal, decision, refusal code. */
export function endRequestTrace(state: RequestState, status: number): void {
  if (state.trace === undefined) return;
  if (state.trace.recorded)
    state.trace.annotate({
      ...(state.route ? { route: state.route.template } : {}),
      'cephgate.cluster': state.route?.cluster,
      'cephgate.principal': state.principal?.id,
      'cephgate.auth_method': state.principal?.method,
      'cephgate.decision': state.decision?.effect,
      'cephgate.rule': state.decision?.ruleId ?? undefined,
      'cephgate.error_code': state.errorCode,
    });
  state.trace.end(status);
}

/** Why tracing cannot start as the environment asks (a startup error, said plainly). */
export class TracingConfigError extends Error {}

/**
 * The tracer the OTEL_* environment asks for, or null when tracing is off: OTEL_SDK_DISABLED=true, or
 * neither OTEL_TRACES_EXPORTER nor an OTLP endpoint is set, or the exporter is `none`. The exporter is
 * OTLP over HTTP (`http/protobuf`, the specification's default, or `http/json`); the SDK reads the rest
 * (endpoint, headers, timeout, sampler, batch sizes) from the same variables.
 */
export function tracingFromEnv(env: NodeJS.ProcessEnv, log: Logger): RequestTracer | null {
  if ((env.OTEL_SDK_DISABLED ?? '').trim().toLowerCase() === 'true') return null;
  const endpoint = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? env.OTEL_EXPORTER_OTLP_ENDPOINT;
  const exporters = (env.OTEL_TRACES_EXPORTER ?? (endpoint ? 'otlp' : 'none'))
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e !== '');
  if (exporters.length === 0 || exporters.includes('none')) return null;
  const unknown = exporters.filter((e) => e !== 'otlp');
  if (unknown.length > 0) throw new TracingConfigError(`OTEL_TRACES_EXPORTER=${unknown.join(',')} is not supported: use otlp (or none)`);
  const protocol = env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? env.OTEL_EXPORTER_OTLP_PROTOCOL ?? 'http/protobuf';
  let exporter: SpanExporter;
  if (protocol === 'http/protobuf') exporter = new OtlpProtobufExporter();
  else if (protocol === 'http/json') exporter = new OtlpHttpJsonExporter();
  else throw new TracingConfigError(`OTLP protocol ${protocol} is not supported: use http/protobuf (a collector's port 4318) or http/json`);

  // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES win over the gateway's own name and version.
  const resource = defaultResource()
    .merge(resourceFromAttributes({ [ATTR_SERVICE_NAME]: 'cephgate', [ATTR_SERVICE_VERSION]: gatewayVersion() }))
    .merge(detectResources({ detectors: [envDetector] }));
  const provider = new BasicTracerProvider({ resource, spanProcessors: [new BatchSpanProcessor(exporter)] });
  log.info({ protocol, endpoint: endpoint ?? 'the exporter default (http://localhost:4318/v1/traces)' }, 'tracing on (OpenTelemetry)');
  return createRequestTracer(provider.getTracer('cephgate', gatewayVersion()), () => provider.shutdown());
}
