// The admin app (admin listener only): liveness, readiness and Prometheus metrics.
// Ready = configuration loaded, audit store reachable, Ceph (each cluster's active mgr) reachable;
// when not, `reasons` says why for each cluster (what every dashboard answered, ceph/mgr-pool.ts).

import { Hono } from 'hono';
import { describeError } from '../config/check-explain.ts';
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

type Readiness = { readonly ok: boolean; readonly why: string | null };
const readiness = (up: boolean): Readiness => ({ ok: up, why: null });
/** A failed ping says why in its error (the mgr pool names every dashboard's answer); the fallback when it does not. */
const notReady =
  (fallback: string) =>
  (err: unknown): Readiness => ({ ok: false, why: err === undefined || err === null ? fallback : describeError(err) });

export function createAdminApp(deps: AdminDeps): Hono {
  const app = new Hono();
  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/readyz', async (c) => {
    const [audit, ...clusters] = await Promise.all([
      deps.audit.ping().then(readiness, notReady('the audit store did not answer')),
      ...deps.clusters.map((name) => deps.upstream.ping(name).then(readiness, notReady(`cluster ${name}: no active mgr`))),
    ]);
    const ceph = Object.fromEntries(deps.clusters.map((name, i) => [name, clusters[i]?.ok ? 'ok' : 'unreachable']));
    const ok = audit?.ok === true && clusters.every((r) => r.ok);
    const reasons: Record<string, string> = {};
    if (audit && !audit.ok) reasons.audit = audit.why ?? 'the audit store did not answer';
    deps.clusters.forEach((name, i) => {
      const r = clusters[i];
      if (r && !r.ok) reasons[name] = r.why ?? `cluster ${name}: no active mgr`;
    });
    return c.json(
      {
        status: ok ? 'ready' : 'not_ready',
        config: 'loaded',
        policy_version: deps.policyVersion(),
        audit: audit?.ok ? 'ok' : 'unreachable',
        ceph,
        ...(ok ? {} : { reasons }),
      },
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
