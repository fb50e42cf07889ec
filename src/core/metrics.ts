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
  /** Group commits of the audit store: duration by result, and batch sizes. */
  readonly auditCommitSeconds: Histogram<'result'>;
  readonly auditCommitBatchSize: Histogram;
  /** Refusals the gateway answered itself (401, 403, 429, 503...), by status and stable code. */
  readonly refusals: Counter<'status' | 'code'>;
  /** Requests refused by a rate limit, by the policy that refused, read or mutation, cluster and status (429, or 503 for a cluster budget). */
  readonly rateLimited: Counter<'policy' | 'kind' | 'cluster' | 'status'>;
  /** The active policy set's version (value 1), reload attempts by result, and whether the last one worked. */
  readonly policySetInfo: Gauge<'version'>;
  readonly policyReloads: Counter<'result'>;
  readonly policyLastReloadSuccess: Gauge;
  /** Read when scraped: set once the parts they describe exist (server/build.ts). */
  readonly sources: MetricSources;
}

/** Live values read at scrape time. */
export interface MetricSources {
  /** Events waiting for the audit store's next group commit. */
  auditQueueDepth: () => number;
  /** Each cluster's active mgr as last seen (null: none found). */
  activeMgrs: () => readonly { readonly cluster: string; readonly url: string | null }[];
}
