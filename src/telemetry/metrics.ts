// Creates the Prometheus metrics (prom-client) of core/metrics.ts, served only on the admin listener.

import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { Metrics } from '../core/metrics.ts';

const FAST = [0.000005, 0.00001, 0.00005, 0.0001, 0.0005, 0.001, 0.005, 0.01];
const SLOW = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export function createMetrics(opts: { defaultMetrics?: boolean } = {}): Metrics {
  const registry = new Registry();
  if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: registry, prefix: 'cephgate_' });
  const r = [registry];
  return {
    registry,
    requests: new Counter({
      name: 'cephgate_requests_total',
      help: 'Requests by route template, method, decision and status',
      labelNames: ['route', 'method', 'decision', 'status'],
      registers: r,
    }),
    requestSeconds: new Histogram({
      name: 'cephgate_request_duration_seconds',
      help: 'Whole request time in the gateway',
      labelNames: ['method'],
      buckets: SLOW,
      registers: r,
    }),
    upstreamSeconds: new Histogram({
      name: 'cephgate_upstream_duration_seconds',
      help: 'Time until Ceph answered with headers',
      labelNames: ['cluster'],
      buckets: SLOW,
      registers: r,
    }),
    upstreamAnswers: new Counter({
      name: 'cephgate_upstream_answers_total',
      help: 'Answers from Ceph by cluster; shared=coalesced|cached were served without a call of their own',
      labelNames: ['cluster', 'shared'],
      registers: r,
    }),
    policySeconds: new Histogram({ name: 'cephgate_policy_evaluation_seconds', help: 'Policy decision time', buckets: FAST, registers: r }),
    auditWriteSeconds: new Histogram({
      name: 'cephgate_audit_write_duration_seconds',
      help: 'Audit write time (intent, outcome)',
      labelNames: ['kind'],
      buckets: SLOW,
      registers: r,
    }),
    auditFailures: new Counter({ name: 'cephgate_audit_store_failures_total', help: 'Audit writes that failed', labelNames: ['kind'], registers: r }),
    cephLogins: new Counter({
      name: 'cephgate_ceph_logins_total',
      help: 'Logins of service accounts to Ceph',
      labelNames: ['cluster', 'result'],
      registers: r,
    }),
    cephTokenCacheHits: new Counter({
      name: 'cephgate_ceph_token_cache_hits_total',
      help: 'Requests served with a cached Ceph token',
      labelNames: ['cluster'],
      registers: r,
    }),
    jwksRefreshes: new Counter({ name: 'cephgate_jwks_refreshes_total', help: 'JWKS fetches per issuer', labelNames: ['issuer'], registers: r }),
    activeSessions: new Gauge({ name: 'cephgate_active_sessions', help: 'Browser sessions currently active', registers: r }),
    auditSpoolBytes: new Gauge({
      name: 'cephgate_audit_spool_bytes',
      help: 'Bytes of refused-request records waiting in the local spool for the audit store',
      registers: r,
    }),
    auditSpoolRecords: new Gauge({
      name: 'cephgate_audit_spool_records',
      help: 'Refused-request records this process spooled, replayed into the chain, or dropped (spool full), since start',
      labelNames: ['event'],
      registers: r,
    }),
  };
}
