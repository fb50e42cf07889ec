// OpenTelemetry tracing of the Ceph API path (docs/observability.md): with the SDK's in-memory exporter,
// a mutation's request span continues the client's traceparent and has one child per stage
// (authenticate, decide, audit intent, upstream, audit outcome), and Ceph receives the upstream span's
// context; a refusal's span says why. With an in-process OTLP/HTTP receiver configured only by OTEL_*
// variables, the spans arrive under service.name cephgate. Without those variables tracing is off.

import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { SpanKind } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { GatewayError } from '../../src/core/errors.ts';
import { createLogger } from '../../src/telemetry/logger.ts';
import { createRequestTracer, TracingConfigError, tracingFromEnv } from '../../src/telemetry/tracing.ts';
import { LogCapture, MemoryAudit, staticUpstream, testDeps } from '../support/doubles.ts';
import { type RunningGateway, startGateway } from '../support/gateway.ts';
import { jsonAnswer, type StubUpstream, startStubUpstream } from '../support/stub-upstream.ts';

const CLIENT_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const CLIENT_SPAN = '00f067aa0ba902b7';
const log = createLogger({ level: 'error', format: 'json' }, new LogCapture());

const spanOf = (spans: readonly ReadableSpan[], name: string) => {
  const s = spans.find((x) => x.name === name);
  assert.ok(s, `a span named ${name} among ${spans.map((x) => x.name).join(', ')}`);
  return s;
};
const parentOf = (s: ReadableSpan) => s.parentSpanContext?.spanId;

describe('spans of a request (in-memory exporter)', () => {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  let stub: StubUpstream;
  let gw: RunningGateway;
  let refuse = false;

  before(async () => {
    stub = await startStubUpstream(jsonAnswer(201, { ok: true }));
    const deps = testDeps({
      upstream: staticUpstream(stub.url),
      audit: new MemoryAudit(),
      authenticate: async () => {
        if (refuse) throw new GatewayError(401, 'invalid_token', 'token expired');
        return {
          id: 'https://idp.example#alice',
          name: 'alice',
          groups: ['team-a'],
          method: 'oidc_bearer',
          issuer: 'https://idp.example',
          claims: {},
        } as never;
      },
    });
    gw = await startGateway(deps, { tracer: createRequestTracer(provider.getTracer('test')) });
  });
  after(async () => {
    await gw.close();
    await stub.close();
  });

  test('a mutation: one server span continuing the client trace, a child per stage, the upstream context sent to Ceph', async () => {
    exporter.reset();
    const res = await fetch(`${gw.url}/api/pool`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', traceparent: `00-${CLIENT_TRACE}-${CLIENT_SPAN}-01` },
      body: JSON.stringify({ pool: 'team-a-1', pg_num: 8 }),
    });
    assert.equal(res.status, 201);
    await res.arrayBuffer();
    // The outcome span ends when the outcome is written, just after the answer.
    for (let i = 0; i < 50 && !exporter.getFinishedSpans().some((s) => s.name === 'audit.outcome'); i++) await new Promise((r) => setTimeout(r, 20));

    const spans = exporter.getFinishedSpans();
    const root = spanOf(spans, 'POST /api/pool');
    assert.equal(root.kind, SpanKind.SERVER);
    assert.equal(root.spanContext().traceId, CLIENT_TRACE, 'the client trace is continued');
    assert.equal(parentOf(root), CLIENT_SPAN, "the client's span is the parent");
    assert.equal(root.attributes['http.response.status_code'], 201);
    assert.equal(root.attributes['cephgate.principal'], 'https://idp.example#alice');
    assert.equal(root.attributes['cephgate.decision'], 'allow');

    for (const stage of ['authenticate', 'decide', 'audit.intent', 'upstream', 'audit.outcome']) {
      const s = spanOf(spans, stage);
      assert.equal(s.spanContext().traceId, CLIENT_TRACE, `${stage} is in the same trace`);
      assert.equal(parentOf(s), root.spanContext().spanId, `${stage} is a child of the request span`);
    }
    const upstream = spanOf(spans, 'upstream');
    assert.equal(upstream.kind, SpanKind.CLIENT);
    assert.equal(upstream.attributes['http.response.status_code'], 201);
    // Stages run in order: authenticate before decide before the intent before the upstream call.
    const startOf = (name: string) => spanOf(spans, name).startTime;
    const order = ['authenticate', 'decide', 'audit.intent', 'upstream'].map((n) => startOf(n)[0] * 1e9 + startOf(n)[1]);
    assert.deepEqual(
      [...order].sort((a, b) => a - b),
      order,
    );

    const sent = stub.received.at(-1)?.headers.traceparent;
    assert.equal(sent, `00-${CLIENT_TRACE}-${upstream.spanContext().spanId}-01`, "Ceph gets the upstream span's context");
  });

  test('a request the client did not sample records no span, and Ceph is told it is not sampled', async () => {
    exporter.reset();
    const res = await fetch(`${gw.url}/api/pool`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', traceparent: `00-${CLIENT_TRACE}-${CLIENT_SPAN}-00` },
      body: JSON.stringify({ pool: 'team-a-2', pg_num: 8 }),
    });
    assert.equal(res.status, 201);
    await res.arrayBuffer();
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(
      exporter.getFinishedSpans().map((x) => x.name),
      [],
    );
    assert.match(String(stub.received.at(-1)?.headers.traceparent ?? ''), new RegExp(`^00-${CLIENT_TRACE}-[0-9a-f]{16}-00$`));
  });

  test('a refused request: the span ends with the status and code, and the failed stage is marked', async () => {
    exporter.reset();
    refuse = true;
    try {
      const res = await fetch(`${gw.url}/api/pool`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      assert.equal(res.status, 401);
    } finally {
      refuse = false;
    }
    const spans = exporter.getFinishedSpans();
    const root = spans.find((s) => s.kind === SpanKind.SERVER);
    assert.ok(root);
    assert.equal(root.attributes['http.response.status_code'], 401);
    assert.equal(root.attributes['cephgate.error_code'], 'invalid_token');
    const auth = spanOf(spans, 'authenticate');
    assert.equal(auth.status.code, 2, 'ERROR');
    assert.equal(auth.attributes['error.type'], 'invalid_token');
    assert.equal(
      spans.some((s) => s.name === 'upstream'),
      false,
      'nothing forwarded',
    );
  });
});

describe('configuration by the OTEL_* environment', () => {
  test('off by default, and with OTEL_SDK_DISABLED or the exporter none', () => {
    assert.equal(tracingFromEnv({}, log), null);
    assert.equal(tracingFromEnv({ OTEL_SDK_DISABLED: 'true', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' }, log), null);
    assert.equal(tracingFromEnv({ OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' }, log), null);
  });

  test('what cannot be honoured is refused at start, saying what works', () => {
    assert.throws(
      () => tracingFromEnv({ OTEL_TRACES_EXPORTER: 'zipkin' }, log),
      (e) => e instanceof TracingConfigError && /use otlp/.test(e.message),
    );
    assert.throws(
      () => tracingFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4317', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }, log),
      (e) => e instanceof TracingConfigError && /http\/protobuf/.test(e.message),
    );
  });

  test('spans reach an OTLP/HTTP receiver named only by OTEL_* variables, as service cephgate', async () => {
    const bodies: unknown[] = [];
    const receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (req.url === '/v1/traces') bodies.push(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    const env = {
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=test',
    };
    // The exporter reads its endpoint from the process environment, as in production.
    const saved = { ...process.env };
    Object.assign(process.env, env);
    let stub: StubUpstream | null = null;
    let gw: RunningGateway | null = null;
    try {
      const tracer = tracingFromEnv(process.env, log);
      assert.ok(tracer, 'on when an endpoint is set');
      stub = await startStubUpstream(jsonAnswer(200, []));
      gw = await startGateway(testDeps({ upstream: staticUpstream(stub.url) }), { tracer });
      const res = await fetch(`${gw.url}/api/pool`);
      assert.equal(res.status, 200);
      await res.arrayBuffer();
      await new Promise((r) => setTimeout(r, 50));
      await tracer.shutdown(); // flushes the batch
    } finally {
      process.env = saved;
      await gw?.close();
      await stub?.close();
      receiver.close();
    }
    const text = JSON.stringify(bodies);
    assert.match(text, /"service\.name","value":\{"stringValue":"cephgate"\}/);
    assert.match(text, /"deployment\.environment\.name","value":\{"stringValue":"test"\}/);
    assert.match(text, /"name":"GET \/api\/pool"/);
    assert.match(text, /"name":"upstream"/);
  });
});
