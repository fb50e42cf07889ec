// The access-log line is written by hand for speed (telemetry/access-log.ts): it must be the line pino
// itself would write for the same request (same keys and values, level, base fields, message), escape
// what needs escaping, and respect the level.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Logger } from '../../src/core/logger.ts';
import type { RequestState } from '../../src/core/request-state.ts';
import { headersFromRaw } from '../../src/intake/headers.ts';
import { parseRequestTarget } from '../../src/intake/request-target.ts';
import { logRequest } from '../../src/telemetry/access-log.ts';
import { createLogger } from '../../src/telemetry/logger.ts';
import { createMetrics } from '../../src/telemetry/metrics.ts';
import { LogCapture } from '../support/doubles.ts';

function stateOf(path: string, extra: Partial<RequestState> = {}): RequestState {
  return {
    requestId: '019a-req',
    receivedAt: new Date(),
    target: parseRequestTarget(path),
    headers: headersFromRaw(['traceparent', '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01']),
    clientIp: '10.0.0.7',
    fromTrustedProxy: false,
    route: { cluster: 'main', operation: null, template: '/api/pool/{pool_name}', params: {} },
    principal: { id: 'https://idp#al"ice\\', name: 'alice', groups: [], method: 'oidc_bearer' } as never,
    decision: { effect: 'allow', ruleId: 'team-a-own-pools', reason: 'x', cephAccount: 'operator', policyVersion: 'v' } as never,
    upstreamMs: 1.23456,
    ...extra,
  };
}

function withoutUpstream(s: RequestState): RequestState {
  delete s.upstreamMs;
  return s;
}

const lines = (c: LogCapture) => c.lines.map((l) => JSON.parse(l) as Record<string, unknown>);

test("the hand-written access line is pino's own line for the same request", () => {
  const fast = new LogCapture();
  const viaPino = new LogCapture();
  const opts = { level: 'info', format: 'json' as const };
  const a = createLogger(opts, fastDestination(fast));
  const bPino = createLogger(opts, fastDestination(viaPino));
  // A logger that is not pino itself takes the ordinary path: pino's serialisation of the same fields.
  const b: Logger = { info: (o: unknown, m?: string) => bPino.info(o as object, m), warn: () => {}, error: () => {}, debug: () => {} } as unknown as Logger;
  const metrics = createMetrics({ defaultMetrics: false });
  for (const state of [stateOf('/api/pool/team-a-1'), withoutUpstream(stateOf('/api/pool', { errorCode: 'policy_denied', shared: 'coalesced' }))]) {
    logRequest({ log: a, metrics }, state, 'GET', 200, performance.now() - 5);
    logRequest({ log: b, metrics }, state, 'GET', 200, performance.now() - 5);
  }
  logRequest({ log: a, metrics }, undefined, 'BREW', 400, performance.now());
  logRequest({ log: b, metrics }, undefined, 'BREW', 400, performance.now());
  const [got, want] = [lines(fast), lines(viaPino)];
  assert.equal(got.length, 3);
  for (const [i, g] of got.entries()) {
    const w = want[i] as Record<string, unknown>;
    for (const row of [g, w]) {
      assert.equal(typeof row.time, 'number');
      assert.equal(typeof row.ms, 'number');
      row.time = 0;
      row.ms = 0;
    }
    assert.deepEqual(g, w);
  }
  assert.equal(got[0]?.principal, 'https://idp#al"ice\\', 'quotes and backslashes escaped');
  assert.equal(got[0]?.trace_id, '4bf92f3577b34da6a3ce929d0e0e4736');
  assert.equal(got[0]?.level, 30);
  assert.equal(got[0]?.msg, 'request');
  assert.equal(got[0]?.service, 'cephgate');
});

test('no line below the configured level', () => {
  const c = new LogCapture();
  const log = createLogger({ level: 'warn', format: 'json' }, fastDestination(c));
  logRequest({ log, metrics: createMetrics({ defaultMetrics: false }) }, stateOf('/api/pool'), 'GET', 200, performance.now());
  assert.equal(c.lines.length, 0);
});

/** pino writes to anything with write(); the capture is a Writable. */
function fastDestination(c: LogCapture) {
  return { write: (s: string) => c.write(s) } as never;
}
