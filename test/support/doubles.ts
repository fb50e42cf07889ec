// Simple test doubles for the pipeline stages, for unit and in-process tests of the pipeline
// itself. Real authenticators, policies, audit stores and Ceph are tested with real parts elsewhere.

import { Writable } from 'node:stream';
import { validateConfig } from '../../src/config/load.ts';
import type { Config } from '../../src/config/schema.ts';
import type { AuditIntent, AuditOutcome, AuditSink } from '../../src/core/audit.ts';
import type { Decision, PolicyEngine } from '../../src/core/decision.ts';
import { GatewayError } from '../../src/core/errors.ts';
import type { Principal } from '../../src/core/principal.ts';
import type { Upstream } from '../../src/core/upstream.ts';
import { createTrustedProxies } from '../../src/intake/trusted-proxies.ts';
import type { PipelineDeps } from '../../src/pipeline/deps.ts';
import { createDispatcher, forward } from '../../src/proxy/forward.ts';
import { createLogger } from '../../src/telemetry/logger.ts';
import { createMetrics } from '../../src/telemetry/metrics.ts';

export const testPrincipal: Principal = {
  id: 'test#alice',
  name: 'Alice',
  email: 'alice@example.test',
  groups: ['team-a'],
  method: 'oidc_bearer',
  authenticatedAt: new Date(0),
  apiKeyName: null,
  claims: {},
};

export const allowAll: PolicyEngine = {
  version: 'test',
  decide: (): Decision => ({ effect: 'allow', ruleId: 'test-allow', reason: 'allowed by test', cephAccount: null, policyVersion: 'test' }),
};

export class MemoryAudit implements AuditSink {
  readonly intents: AuditIntent[] = [];
  readonly outcomes = new Map<string, AuditOutcome>();
  failing = false;
  async recordIntent(i: AuditIntent): Promise<void> {
    if (this.failing) throw new Error('audit store down (test)');
    this.intents.push(i);
  }
  async recordRefusal(i: AuditIntent): Promise<void> {
    await this.recordIntent(i);
  }
  async recordOutcome(id: string, o: AuditOutcome): Promise<void> {
    this.outcomes.set(id, o);
  }
  async ping(): Promise<boolean> {
    return !this.failing;
  }
  async close(): Promise<void> {}
}

/** Forwards to one origin without credentials: the pipeline's Upstream stage, minus Ceph. */
export function staticUpstream(origin: string, timeouts = { connect: 2000, headers: 2000, body: 5000 }): Upstream {
  const dispatcher = createDispatcher({ connectTimeoutMs: timeouts.connect });
  return {
    send: (req) =>
      forward({
        dispatcher,
        origin,
        method: req.method,
        path: req.pathAndQuery,
        headers: req.headers,
        body: req.body,
        headersTimeoutMs: timeouts.headers,
        bodyTimeoutMs: timeouts.body,
      }),
    ping: async () => true,
    close: async () => dispatcher.close(),
  };
}

/** Captures log lines (JSON) in memory, for tests that grep the log. */
export class LogCapture extends Writable {
  readonly lines: string[] = [];
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    this.lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    cb();
  }
}

export function testConfig(overrides: Record<string, unknown> = {}): Config {
  return validateConfig({ logging: { level: 'info', format: 'json' }, ...overrides }, 'test');
}

export function testDeps(over: Partial<PipelineDeps> & { upstream: Upstream }): PipelineDeps & { audit: AuditSink; logs: LogCapture } {
  const config = over.config ?? testConfig();
  const logs = new LogCapture();
  return {
    config,
    log: createLogger({ level: 'info', format: 'json' }, logs),
    metrics: createMetrics({ defaultMetrics: false }),
    trustedProxies: createTrustedProxies(config.server.trusted_proxies),
    authenticate: async () => testPrincipal,
    matchRoute: (_m, target) => ({ cluster: target.cluster ?? 'default', operation: null, template: target.rawPath, params: {} }),
    policy: () => allowAll,
    audit: new MemoryAudit(),
    now: () => new Date(),
    logs,
    ...over,
  } as PipelineDeps & { audit: AuditSink; logs: LogCapture };
}

export function failingAuthenticate(): never {
  throw new GatewayError(401, 'unauthenticated', 'no credential', { headers: { 'WWW-Authenticate': 'Bearer realm="cephgate"' } });
}
