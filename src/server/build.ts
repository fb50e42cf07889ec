// The composition root: turns a validated Config into the running parts of the gateway (database,
// audit store, route catalogues, policy manager, authenticators, Ceph upstream) and the two apps.
// Construction fails loudly here, at start-up; nothing re-checks configuration per request.

import { and, count, gt, isNull, sql } from 'drizzle-orm';
import type { Hono } from 'hono';
import { sessions } from '../db/schema.ts';
import { loadCheckpointKey, startCheckpoints } from '../audit/checkpoint.ts';
import { pruneAudit } from '../audit/prune.ts';
import { createRedactor } from '../audit/redact.ts';
import { openRefusalSpool } from '../audit/spool.ts';
import { type AuditStore, createAuditStore } from '../audit/store.ts';
import { createApiKeyAuthenticator } from '../auth/api-keys.ts';
import { createApiKeyStore } from '../auth/apikey-store.ts';
import { createBearerAuthenticator } from '../auth/bearer.ts';
import { type BrowserLogin, createBrowserLogin } from '../auth/browser/routes.ts';
import { parseSealKey } from '../auth/browser/seal.ts';
import { createSessionStore } from '../auth/browser/session-store.ts';
import { createAuthenticatorChain, type DetectingAuthenticator } from '../auth/chain.ts';
import { resolveSecret, secretRefOf } from '../config/secrets.ts';
import { loadCatalogue, type RouteCatalogue } from '../ceph/catalogue.ts';
import { createNativeLogin } from '../ceph/native-login/index.ts';
import { createRouteMatcher } from '../ceph/route-matcher.ts';
import { type CephUpstream, createCephUpstream, detectRelease } from '../ceph/upstream.ts';
import type { Config } from '../config/schema.ts';
import { type Database, openDatabase } from '../db/database.ts';
import { migrateDatabase } from '../db/migrate.ts';
import { createTrustedProxies } from '../intake/trusted-proxies.ts';
import type { PipelineDeps } from '../pipeline/deps.ts';
import type { CephRelease } from '../pipeline/types.ts';
import { createCoalescingUpstream } from '../pipeline/coalesce.ts';
import { PolicyManager } from '../policy/manager.ts';
import { formatIssue } from '../policy/model.ts';
import { createDispatcher, forward } from '../proxy/forward.ts';
import { createAdminApp } from './admin.ts';
import { createApp } from './app.ts';
import { createFastPath, type FastPath } from './fast-path.ts';
import type { AppEnv } from './env.ts';
import { databaseUrl } from './database-url.ts';
import type { Logger } from './logger.ts';
import { createMetrics, type Metrics } from './metrics.ts';
import { mountGatewayRoutes } from './gateway-routes.ts';

export interface Gateway {
  readonly app: Hono<AppEnv>;
  /** The Ceph API path served before hono; give it to createPublicServer. */
  readonly fastPath: FastPath;
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

export class StartupError extends Error {
  constructor(message: string, readonly exitCode = 2) {
    super(message);
    this.name = 'StartupError';
  }
}

/** The release of each cluster: configured, or detected from a dashboard's own OpenAPI document. */
async function clusterReleases(config: Config, log: Logger): Promise<Map<string, CephRelease>> {
  const out = new Map<string, CephRelease>();
  for (const c of config.ceph.clusters) {
    if (c.release !== 'auto') {
      out.set(c.name, c.release);
      continue;
    }
    let lastErr: unknown = null;
    for (const url of c.dashboards) {
      try {
        const dispatcher = createDispatcher({ connectTimeoutMs: c.timeouts.connect_ms, caFile: c.tls.ca_file, insecureSkipVerify: c.tls.insecure_skip_verify });
        const release = await detectRelease(url, { dispatcher, timeoutMs: 10_000 });
        await dispatcher.close();
        out.set(c.name, release);
        log.info({ cluster: c.name, release, url }, 'detected the Ceph release');
        break;
      } catch (err) {
        lastErr = err;
      }
    }
    if (!out.has(c.name)) {
      throw new StartupError(`cannot detect the Ceph release of cluster ${c.name} (${(lastErr as Error)?.message ?? 'no answer'}); set ceph.clusters[].release or make a dashboard reachable`, 3);
    }
  }
  return out;
}

/** Periodic chain checkpoints (signed when a key is configured) and scheduled retention, when configured. */
function startAuditJobs(config: Config, audit: AuditStore, log: Logger): () => void {
  const a = config.audit;
  const key = a.signing_key_file ? loadCheckpointKey(a.signing_key_file).privateKey : null;
  const stops: (() => void)[] = [];
  if (a.checkpoint_interval_seconds > 0) {
    stops.push(startCheckpoints(audit.db, { intervalMs: a.checkpoint_interval_seconds * 1000, key, onError: (err) => log.warn({ err }, 'audit checkpoint failed') }));
  }
  if (a.prune_interval_minutes > 0 && a.retention_days > 0) {
    const timer = setInterval(() => {
      const olderThan = new Date(Date.now() - a.retention_days * 86_400_000);
      pruneAudit(audit.db, { olderThan, key }).then(
        (r) => log.info({ removed: r.intentsDeleted, outcomes: r.outcomesDeleted, older_than: olderThan.toISOString() }, 'audit retention applied'),
        (err: unknown) => log.warn({ err }, 'audit prune failed'),
      );
    }, a.prune_interval_minutes * 60_000);
    timer.unref();
    stops.push(() => clearInterval(timer));
  }
  return () => {
    for (const stop of stops) stop();
  };
}

/** Browser login (authorization code + PKCE) and its session authenticator, when configured. */
function browserLogin(config: Config, database: Database): BrowserLogin | null {
  const bl = config.identity.browser_login;
  if (!bl?.enabled) return null;
  if (!config.server.public_url) throw new StartupError('identity.browser_login needs server.public_url (the URL browsers use)');
  const issuer = config.identity.issuers.find((i) => i.name === bl.issuer);
  if (!issuer) throw new StartupError(`identity.browser_login.issuer: no issuer named ${bl.issuer}`);
  const s = config.identity.sessions;
  return createBrowserLogin({
    publicUrl: config.server.public_url,
    issuer,
    login: bl,
    sessions: s,
    clientSecret: resolveSecret(secretRefOf(bl, 'client_secret'), 'identity.browser_login.client_secret'),
    encryptionKey: parseSealKey(resolveSecret(secretRefOf(s, 'encryption_key'), 'identity.sessions.encryption_key')),
    store: createSessionStore(database.db),
  });
}

export async function buildGateway(config: Config, log: Logger, opts: { metrics?: Metrics; now?: () => Date } = {}): Promise<Gateway> {
  if (config.ceph.clusters.length === 0) throw new StartupError('no Ceph cluster configured (ceph.clusters); see docs/configuration.md');
  for (const c of config.ceph.clusters) {
    if (c.tls.insecure_skip_verify) log.warn({ cluster: c.name }, 'TLS VERIFICATION OF THE CEPH DASHBOARD IS DISABLED (ceph.clusters[].tls.insecure_skip_verify): anyone on the path can impersonate Ceph');
  }
  const metrics = opts.metrics ?? createMetrics();
  const now = opts.now ?? (() => new Date());

  // Database: Postgres when a URL is configured, else the embedded PGlite directory.
  const url = databaseUrl(config);
  const database = await openDatabase({
    ...(url ? { url } : { pgliteDir: config.audit.pglite_dir }),
    poolMax: config.audit.pool_max,
    onError: (err) => log.warn({ err }, 'database connection error'),
  });
  if (config.audit.migrate_on_start) await migrateDatabase(database);
  const spool = config.audit.spool_max_bytes > 0 ? await openRefusalSpool({ dir: config.audit.spool_dir, maxBytes: config.audit.spool_max_bytes }) : undefined;
  const audit = createAuditStore(database, {
    redactor: createRedactor({ extraPaths: config.audit.redact_extra_paths }),
    batchMax: config.audit.batch_max,
    queueMax: config.audit.queue_max,
    timeoutMs: config.audit.intent_timeout_ms,
    ownsDatabase: true,
    onError: (err) => log.error({ err }, 'audit write failed'),
    ...(spool ? { spool } : {}),
  });
  // Refusals spooled by an earlier run (or a process that died) go into the chain now.
  void audit.replaySpool().then((n) => n > 0 && log.warn({ records: n }, 'spooled audit records of refused requests appended to the chain'));

  const stopAuditJobs = startAuditJobs(config, audit, log);

  // Routes: one catalogue per cluster, for the release it runs.
  const releases = await clusterReleases(config, log);
  const catalogues = new Map<string, RouteCatalogue>();
  for (const [name, release] of releases) catalogues.set(name, loadCatalogue(release));
  const defaultCluster = config.ceph.default_cluster ?? (config.ceph.clusters[0]?.name as string);
  const matchRoute = createRouteMatcher({
    catalogues, defaultCluster, allowUnknown: new Map(config.ceph.clusters.map((c) => [c.name, c.allow_unknown_routes])),
  });

  // Policies, checked against those catalogues and the configured accounts.
  const policies = new PolicyManager({
    dir: config.policy.dir,
    watch: config.policy.watch,
    catalogues: [...new Set(catalogues.values())],
    accounts: Object.fromEntries(config.ceph.clusters.map((c) => [c.name, c.accounts.map((a) => a.name)])),
    maxInspectBytes: config.policy.max_inspect_bytes,
    onError: (issues) => log.error({ problems: issues.map(formatIssue) }, 'policy reload rejected; the last good policy set stays active'),
    onReload: (engine, previous) => log.info({ version: engine.version, previous }, 'policy set reloaded'),
  });

  const upstream = createCephUpstream(config.ceph, {
    forward, log,
    onLogin: (cluster, result) => metrics.cephLogins.inc({ cluster, result }),
    onCacheHit: (cluster) => metrics.cephTokenCacheHits.inc({ cluster }),
  });
  // Ceph-native `POST /api/auth` for existing Ceph clients, on clusters that enable it.
  const native = createNativeLogin({ clusters: config.ceph.clusters, defaultCluster, runtime: (n) => upstream.cluster(n), forward, audit, log, now, matchRoute });

  // Identity: bearer JWTs from trusted issuers, Ceph-native tokens, API keys, browser sessions.
  const bearer = createBearerAuthenticator(config.identity, { onJwksFetch: (issuer) => metrics.jwksRefreshes.inc({ issuer }) });
  const authenticators: DetectingAuthenticator[] = native.enabled ? [native.authenticator, native.excludingNativeTokens(bearer)] : [bearer];
  const apiKeys = createApiKeyStore(database.db);
  if (config.identity.api_keys.enabled) {
    authenticators.push(createApiKeyAuthenticator(apiKeys, config.identity.api_keys, { onTouchError: (err) => log.warn({ err }, 'API key last-used write failed') }));
  }

  const browser = browserLogin(config, database);
  if (browser) authenticators.push(browser.authenticator);

  // Safe expensive reads may share one upstream call (off unless configured per cluster).
  const sending = createCoalescingUpstream(upstream, config.ceph.clusters);

  const deps: PipelineDeps = {
    config, log, metrics, now,
    trustedProxies: createTrustedProxies(config.server.trusted_proxies),
    authenticate: createAuthenticatorChain(authenticators),
    matchRoute,
    policy: () => policies.current,
    audit,
    upstream: sending,
    cephCredential: (p, cluster) => native.credentialFor(p, cluster),
  };
  const app = createApp(deps, {
    loginRedirect: browser !== null,
    gatewayRoutes: (a) => {
      // Before /api/*: the gateway answers POST /api/auth itself where native login is on.
      if (native.enabled) a.route('/', native.routes as never);
      mountGatewayRoutes(a, { deps, audit, apiKeys, policies, catalogues, ...(browser ? { browser: browser.routes as never } : {}) });
    },
  });
  const admin = createAdminApp({
    beforeScrape: async () => {
      if (spool) {
        const st = spool.stats();
        metrics.auditSpoolBytes.set(st.bytes);
        for (const event of ['spooled', 'replayed', 'dropped'] as const) metrics.auditSpoolRecords.set({ event }, st[event]);
      }
      const [row] = await database.db.select({ n: count() }).from(sessions).where(and(isNull(sessions.endedAt), gt(sessions.expiresAt, sql`now()`)));
      metrics.activeSessions.set(Number(row?.n ?? 0));
    },
    metrics, audit, upstream, clusters: config.ceph.clusters.map((c) => c.name), policyVersion: () => policies.current.version,
  });
  return {
    app, admin, deps, fastPath: createFastPath(deps, { nativeLogin: native.enabled }), policies, database, audit, upstream, metrics,
    async close() {
      stopAuditJobs();
      policies.close();
      await upstream.close();
      await audit.close();
    },
  };
}
