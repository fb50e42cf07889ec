// Creates the Prometheus metrics (prom-client) of core/metrics.ts, served only on the admin listener.

import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { MetricSources, Metrics } from '../core/metrics.ts';
import { gatewayVersion } from '../core/version.ts';

const FAST = [0.000005, 0.00001, 0.00005, 0.0001, 0.0005, 0.001, 0.005, 0.01];
const SLOW = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export function createMetrics(opts: { defaultMetrics?: boolean } = {}): Metrics {
  const registry = new Registry();
  if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: registry, prefix: 'cephgate_' });
  const r = [registry];
  const sources: MetricSources = { auditQueueDepth: () => 0, activeMgrs: () => [] };
  new Gauge({
    name: 'cephgate_build_info',
    help: 'The running gateway: version and Node.js version (value 1)',
    labelNames: ['version', 'node_version'],
    registers: r,
  }).set({ version: gatewayVersion(), node_version: process.version }, 1);
  new Gauge({
    name: 'cephgate_audit_queue_depth',
    help: 'Audit events waiting for the next group commit',
    registers: r,
    collect() {
      this.set(sources.auditQueueDepth());
    },
  });
  new Gauge({
    name: 'cephgate_ceph_active_mgr',
    help: 'Each cluster\'s active mgr as last seen: 1 on the url of the active one; 0 with url="" while none is found',
    labelNames: ['cluster', 'url'],
    registers: r,
    collect() {
      this.reset();
      for (const m of sources.activeMgrs()) this.set({ cluster: m.cluster, url: m.url ?? '' }, m.url === null ? 0 : 1);
    },
  });
  const policySetInfo = new Gauge({ name: 'cephgate_policy_set_info', help: 'The active policy set (value 1)', labelNames: ['version'], registers: r });
  return {
    registry,
    sources,
    policySetInfo,
    policyReloads: new Counter({
      name: 'cephgate_policy_reloads_total',
      help: 'Policy reloads by result: applied, or rejected (the last good set stays active)',
      labelNames: ['result'],
      registers: r,
    }),
    policyLastReloadSuccess: new Gauge({
      name: 'cephgate_policy_last_reload_success',
      help: '1 when the last policy load or reload was applied, 0 when it was rejected',
      registers: r,
    }),
    auditCommitSeconds: new Histogram({
      name: 'cephgate_audit_commit_duration_seconds',
      help: 'Time of one group commit of the audit store, by result (ok, failed)',
      labelNames: ['result'],
      buckets: SLOW,
      registers: r,
    }),
    auditCommitBatchSize: new Histogram({
      name: 'cephgate_audit_commit_batch_size',
      help: 'Events per group commit of the audit store',
      buckets: [1, 2, 5, 10, 25, 50, 100, 250, 500],
      registers: r,
    }),
    refusals: new Counter({
      name: 'cephgate_refusals_total',
      help: 'Requests the gateway refused or failed itself, by status and code (e.g. 503 audit_unavailable, 429 too_many_requests)',
      labelNames: ['status', 'code'],
      registers: r,
    }),
    rateLimited: new Counter({
      name: 'cephgate_rate_limited_total',
      help: 'Requests refused by a rate limit, by the policy that refused them, read or mutation, cluster and status',
      labelNames: ['policy', 'kind', 'cluster', 'status'],
      registers: r,
    }),
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
