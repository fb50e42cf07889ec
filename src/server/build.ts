// The composition root: turns a validated Config into the running gateway: the audit store, the
// routing, the policies, the Ceph upstream, the identities, the pipeline and the two listeners'
// handlers. Construction fails loudly here, at start-up; nothing re-checks configuration per request.

import type { RequestListener } from 'node:http';
import { and, count, gt, isNull, sql } from 'drizzle-orm';
import type { Hono } from 'hono';
import { loadCheckpointKey } from '../audit/checkpoint.ts';
import type { AuditStore } from '../audit/store.ts';
import { createDashboardUiAnswers } from '../auth/browser/ui-answers.ts';
import { createCoalescingUpstream } from '../ceph/coalesce.ts';
import { type CephUpstream, createCephUpstream } from '../ceph/upstream.ts';
import type { Config } from '../config/schema.ts';
import type { LocalAnswer } from '../core/exchange.ts';
import type { Logger } from '../core/logger.ts';
import type { Metrics } from '../core/metrics.ts';
import type { RequestTracer } from '../core/trace.ts';
import type { Database } from '../db/database.ts';
import { sessions } from '../db/schema.ts';
import { createTrustedProxies } from '../intake/trusted-proxies.ts';
import { createRateLimits } from '../limits/index.ts';
import type { PipelineDeps } from '../pipeline/deps.ts';
import { createGatewayAuthorizer } from '../pipeline/gateway-operations.ts';
import { createProxyHandler } from '../pipeline/handle.ts';
import { PolicyManager } from '../policy/manager.ts';
import { formatIssue } from '../policy/model.ts';
import { dashboardPermissions } from '../policy/ui-permissions.ts';
import { forward } from '../proxy/forward.ts';
import { createMetrics } from '../telemetry/metrics.ts';
import { TracingConfigError, tracingFromEnv } from '../telemetry/tracing.ts';
import { createAdminApp } from '../web/admin.ts';
import { createWebApp } from '../web/app.ts';
import { mountGatewayRoutes } from '../web/gateway-routes.ts';
import { createLoginRoutes } from '../web/login.ts';
import type { PagesOptions } from '../web/pages/deps.ts';
import { type AuditSetup, setUpAudit } from './audit-setup.ts';
import { type Identity, setUpIdentity } from './identity-setup.ts';
import { webRequestListener } from './listeners.ts';
import { createRequestListener } from './request-listener.ts';
import { type Routing, setUpRouting } from './routing-setup.ts';
import { StartupError } from './startup-error.ts';

export { StartupError };

export interface Gateway {
  /** The public listener's handler: the Ceph API through the pipeline, /gateway/* through the web app. */
  readonly listener: RequestListener;
  readonly admin: Hono;
  readonly deps: PipelineDeps;
  readonly policies: PolicyManager;
  readonly database: Database;
  readonly audit: AuditStore;
  readonly upstream: CephUpstream;
  readonly metrics: Metrics;
  /** Releases the pools, watchers and the database. */
  close(): Promise<void>;
}

export interface BuildOptions {
  readonly metrics?: Metrics;
  readonly now?: () => Date;
  /** The tracer (tests pass one with an in-memory exporter); default: from the OTEL_* environment, off unless set. */
  readonly tracer?: RequestTracer | null;
}

export async function buildGateway(config: Config, log: Logger, opts: BuildOptions = {}): Promise<Gateway> {
  if (config.ceph.clusters.length === 0) throw new StartupError('no Ceph cluster configured (ceph.clusters); see docs/configuration.md');
  const tracer = opts.tracer !== undefined ? opts.tracer : tracerFromEnvironment(log);
  const metrics = opts.metrics ?? createMetrics();
  const now = opts.now ?? (() => new Date());
  const audit = await setUpAudit(config, log);
  const routing = await setUpRouting(config, log);
  const policies = policyManager(config, routing.catalogues.values(), log, metrics);
  const upstream = createCephUpstream(config.ceph, {
    forward,
    log,
    onLogin: (cluster, result) => metrics.cephLogins.inc({ cluster, result }),
    onCacheHit: (cluster) => metrics.cephTokenCacheHits.inc({ cluster }),
  });
  metrics.sources.auditQueueDepth = () => audit.audit.queueDepth();
  audit.audit.observeCommits((size, seconds, failed) => {
    metrics.auditCommitSeconds.observe({ result: failed ? 'failed' : 'ok' }, seconds);
    metrics.auditCommitBatchSize.observe(size);
  });
  metrics.sources.activeMgrs = () => config.ceph.clusters.map((c) => ({ cluster: c.name, url: upstream.cluster(c.name)?.pool.current() ?? null }));
  const rateLimits = createRateLimits({
    config: config.rate_limits,
    db: audit.database.db,
    clusters: config.ceph.clusters.map((c) => c.name),
    log,
    onLimited: (l, kind, cluster) => metrics.rateLimited.inc({ policy: l.policy, kind, cluster, status: String(l.status) }),
  });
  const identity = setUpIdentity(config, { database: audit.database, audit: audit.audit, upstream, defaultCluster: routing.defaultCluster, log, metrics, now });

  const deps: PipelineDeps = {
    config,
    log,
    metrics,
    now,
    trustedProxies: createTrustedProxies(config.server.trusted_proxies),
    authenticate: identity.authenticate,
    matchRoute: routing.matchRoute,
    policy: () => policies.current,
    audit: audit.audit,
    // Safe expensive reads may share one upstream call (off unless configured per cluster).
    upstream: createCoalescingUpstream(upstream, config.ceph.clusters),
    cephCredential: (p, cluster) => identity.native.credentialFor(p, cluster),
    uiClusters: routing.uiClusters,
    localAnswers: localAnswers(dashboardUiAnswers(config, { identity, routing, policies, upstream, log }), identity.native.answers),
    rateLimits,
  };
  const web = createWebApp(deps, {
    loginRedirect: identity.browser !== null,
    gatewayRoutes: (app) =>
      mountGatewayRoutes(app, {
        authorize: createGatewayAuthorizer(deps),
        authenticate: deps.authenticate,
        matchRoute: deps.matchRoute,
        now,
        audit: audit.audit,
        apiKeys: identity.apiKeys,
        apiKeyMaxLifetimeDays: config.identity.api_keys.max_lifetime_days,
        policies,
        ...(identity.browser ? { browser: createLoginRoutes(identity.browser) } : {}),
        pages: pagesOptions(config, routing),
      }),
  });
  return {
    listener: createRequestListener({
      ...deps,
      proxy: createProxyHandler(deps),
      web: webRequestListener(web, log),
      uiAtRoot: routing.uiClusters.has(routing.defaultCluster),
      tracer,
    }),
    admin: adminApp(config, { audit, upstream, policies, metrics }),
    deps,
    policies,
    database: audit.database,
    audit: audit.audit,
    upstream,
    metrics,
    async close() {
      policies.close();
      rateLimits.close();
      await upstream.close();
      await audit.close();
      await tracer?.shutdown();
    },
  };
}

/** What the pages take from configuration: the IdP's name on the sign-in button, the Dashboard link, the checkpoint key. */
function pagesOptions(config: Config, routing: Routing): PagesOptions {
  const login = config.identity.browser_login;
  const key = config.audit.signing_key_file;
  return {
    ...(login?.enabled ? { idpName: login.issuer } : {}),
    ...(routing.uiClusters.has(routing.defaultCluster) ? { dashboardUrl: '/' } : {}),
    ...(key ? { checkpointKey: loadCheckpointKey(key).publicKey } : {}),
  };
}

function tracerFromEnvironment(log: Logger): RequestTracer | null {
  try {
    return tracingFromEnv(process.env, log);
  } catch (err) {
    if (err instanceof TracingConfigError) throw new StartupError(`tracing: ${err.message} (docs/observability.md, "Tracing")`);
    throw err;
  }
}

/** Policies, checked against the clusters' catalogues and the configured accounts. */
function policyManager(config: Config, catalogues: Iterable<import('../ceph/catalogue.ts').RouteCatalogue>, log: Logger, metrics: Metrics): PolicyManager {
  const active = (version: string) => {
    metrics.policySetInfo.reset();
    metrics.policySetInfo.set({ version }, 1);
    metrics.policyLastReloadSuccess.set(1);
  };
  const manager = new PolicyManager({
    dir: config.policy.dir,
    watch: config.policy.watch,
    catalogues: [...new Set(catalogues)],
    accounts: Object.fromEntries(config.ceph.clusters.map((c) => [c.name, c.accounts.map((a) => a.name)])),
    maxInspectBytes: config.policy.max_inspect_bytes,
    onError: (issues) => {
      metrics.policyReloads.inc({ result: 'rejected' });
      metrics.policyLastReloadSuccess.set(0);
      log.error({ problems: issues.map(formatIssue) }, 'policy reload rejected; the last good policy set stays active');
    },
    onReload: (engine, previous) => log.info({ version: engine.version, previous }, 'policy set reloaded'),
    onLoaded: (engine) => {
      metrics.policyReloads.inc({ result: 'applied' });
      active(engine.version);
    },
  });
  active(manager.current.version);
  return manager;
}

/** The dashboard UI's login dance for browser sessions (auth/browser/ui-answers.ts), on the clusters that serve the UI. */
function dashboardUiAnswers(
  config: Config,
  p: { identity: Identity; routing: Routing; policies: PolicyManager; upstream: CephUpstream; log: Logger },
): Map<string, LocalAnswer> {
  const login = p.identity.browser;
  if (login === null || p.routing.uiClusters.size === 0) return new Map();
  return createDashboardUiAnswers({
    login,
    clusters: p.routing.uiClusters,
    log: p.log,
    bodyTimeoutMs: config.limits.body_timeout_ms,
    permissionsFor: (principal, cluster) =>
      dashboardPermissions({
        engine: p.policies.current,
        operations: p.routing.catalogues.get(cluster)?.operations ?? [],
        principal,
        cluster,
        defaultAccount: config.ceph.clusters.find((c) => c.name === cluster)?.default_account ?? null,
        accountPermissions: (account) => p.upstream.tokens.permissions(cluster, account),
      }),
  });
}

/** The operations the gateway answers itself, each with its answers in the order they are tried. */
function localAnswers(...sets: ReadonlyMap<string, LocalAnswer>[]): Map<string, LocalAnswer[]> {
  const out = new Map<string, LocalAnswer[]>();
  for (const set of sets) for (const [op, answer] of set) out.set(op, [...(out.get(op) ?? []), answer]);
  return out;
}

/** The admin listener's app: liveness, readiness (audit store and each cluster's active mgr) and metrics. */
function adminApp(config: Config, p: { audit: AuditSetup; upstream: CephUpstream; policies: PolicyManager; metrics: Metrics }): Hono {
  const { audit, metrics } = p;
  return createAdminApp({
    beforeScrape: async () => {
      if (audit.spool) {
        const st = audit.spool.stats();
        metrics.auditSpoolBytes.set(st.bytes);
        for (const event of ['spooled', 'replayed', 'dropped'] as const) metrics.auditSpoolRecords.set({ event }, st[event]);
      }
      const [row] = await audit.database.db
        .select({ n: count() })
        .from(sessions)
        .where(and(isNull(sessions.endedAt), gt(sessions.expiresAt, sql`now()`)));
      metrics.activeSessions.set(Number(row?.n ?? 0));
    },
    metrics,
    audit: audit.audit,
    upstream: p.upstream,
    clusters: config.ceph.clusters.map((c) => c.name),
    policyVersion: () => p.policies.current.version,
  });
}
