// The gateway's Prometheus metrics as the stages see them (telemetry/metrics.ts creates them, the admin
// listener serves them). Names follow the conventions: cephgate_<what>_<unit>, counters end in _total.

import type { Counter, Gauge, Histogram, Registry } from 'prom-client';

export interface Metrics {
  readonly registry: Registry;
  readonly requests: Counter<'route' | 'method' | 'decision' | 'status'>;
  readonly requestSeconds: Histogram<'method'>;
  readonly upstreamSeconds: Histogram<'cluster'>;
  readonly upstreamAnswers: Counter<'cluster' | 'shared'>;
  readonly policySeconds: Histogram;
  readonly auditWriteSeconds: Histogram<'kind'>;
  readonly auditFailures: Counter<'kind'>;
  readonly cephLogins: Counter<'cluster' | 'result'>;
  readonly cephTokenCacheHits: Counter<'cluster'>;
  readonly jwksRefreshes: Counter<'issuer'>;
  readonly activeSessions: Gauge;
  /** Refusals waiting in the local audit spool (bytes), and what it did: spooled, replayed, dropped. */
  readonly auditSpoolBytes: Gauge;
  readonly auditSpoolRecords: Gauge<'event'>;
}
