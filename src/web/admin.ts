// The admin app (admin listener only): liveness, readiness and Prometheus metrics.
// Ready = configuration loaded, audit store reachable, Ceph (each cluster's active mgr) reachable.

import { Hono } from 'hono';
import type { AuditSink } from '../core/audit.ts';
import type { Metrics } from '../core/metrics.ts';
import type { Upstream } from '../core/upstream.ts';

export interface AdminDeps {
  readonly metrics: Metrics;
  readonly audit: Pick<AuditSink, 'ping'>;
  readonly upstream: Pick<Upstream, 'ping'>;
  readonly clusters: readonly string[];
  readonly policyVersion: () => string;
  /** Refreshes gauges that are read from elsewhere (active sessions) just before a scrape. */
  readonly beforeScrape?: () => Promise<void>;
}

export function createAdminApp(deps: AdminDeps): Hono {
  const app = new Hono();
  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/readyz', async (c) => {
    const [audit, ...clusters] = await Promise.all([
      deps.audit.ping().catch(() => false),
      ...deps.clusters.map((name) => deps.upstream.ping(name).catch(() => false)),
    ]);
    const ceph = Object.fromEntries(deps.clusters.map((name, i) => [name, clusters[i] ? 'ok' : 'unreachable']));
    const ok = audit === true && clusters.every(Boolean);
    return c.json(
      { status: ok ? 'ready' : 'not_ready', config: 'loaded', policy_version: deps.policyVersion(), audit: audit ? 'ok' : 'unreachable', ceph },
      ok ? 200 : 503,
    );
  });
  app.get('/metrics', async (c) => {
    await deps.beforeScrape?.().catch(() => undefined);
    return c.text(await deps.metrics.registry.metrics(), 200, { 'Content-Type': deps.metrics.registry.contentType });
  });
  app.notFound((c) => c.json({ status: '404 Not Found', detail: 'not found', request_id: 'none', code: 'not_found' }, 404));
  return app;
}
