// (G) cephgate with its full pipeline, in its own process, composed from the real modules until
// src/server/build.ts exists: RS256 bearer auth against the dev IdP, synthetic policy rules, real route
// catalogue, Ceph upstream (token exchange + version rewrite) against the stub, access log on, a real audit store.

import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { sql } from 'drizzle-orm';
import { createAuditStore } from '../src/audit/store.ts';
import { createBearerAuthenticator } from '../src/auth/bearer.ts';
import { createAuthenticatorChain } from '../src/auth/chain.ts';
import { loadCatalogue } from '../src/ceph/catalogue.ts';
import { createRouteMatcher } from '../src/ceph/route-matcher.ts';
import { createCephUpstream } from '../src/ceph/upstream.ts';
import { validateConfig } from '../src/config/load.ts';
import type { AuditSink } from '../src/core/audit.ts';
import { type Database, openDatabase } from '../src/db/database.ts';
import { migrateDatabase } from '../src/db/migrate.ts';
import { createTrustedProxies } from '../src/intake/trusted-proxies.ts';
import type { PipelineDeps } from '../src/pipeline/deps.ts';
import { createProxyHandler } from '../src/pipeline/handle.ts';
import { forward } from '../src/proxy/forward.ts';
import { createPublicServer, webRequestListener } from '../src/server/listeners.ts';
import { createRequestListener } from '../src/server/request-listener.ts';
import { createLogger, logDestination } from '../src/telemetry/logger.ts';
import { createMetrics } from '../src/telemetry/metrics.ts';
import { tracingFromEnv } from '../src/telemetry/tracing.ts';
import { createWebApp } from '../src/web/app.ts';
import { announce } from './proc.ts';
import { answerProfileCommands } from './profile-hook.ts';
import { ACCOUNTS, CLUSTER, compileSynthetic, type RuleShape } from './synthetic-rules.ts';

const { values: a } = parseArgs({
  options: {
    upstream: { type: 'string' },
    issuer: { type: 'string' },
    audit: { type: 'string', default: 'pglite' },
    'pg-url': { type: 'string' },
    rules: { type: 'string', default: '1000' },
    shape: { type: 'string', default: 'teams' },
  },
});
if (a.upstream === undefined || a.issuer === undefined)
  throw new Error('usage: gateway-child.ts --upstream <url> --issuer <url> [--audit none|pglite|pg --pg-url <url>] [--rules N --shape teams|spread]');

const work = mkdtempSync(join(tmpdir(), 'cephgate-bench-gw-'));
const config = validateConfig(
  {
    server: { listen: { host: '127.0.0.1', port: 0 } },
    logging: { level: 'info', format: 'json' },
    ceph: {
      default_cluster: CLUSTER,
      clusters: [
        {
          name: CLUSTER,
          dashboards: [a.upstream],
          release: 'pacific',
          accounts: ACCOUNTS.map((name) => ({ name, username: name, password: 'bench' })),
          default_account: 'reader',
        },
      ],
    },
    identity: { issuers: [{ name: 'dev', issuer: a.issuer, audiences: ['cephgate'] }] },
    audit: { ...(a.audit === 'pg' ? { database_url: a['pg-url'] } : {}), pglite_dir: join(work, 'audit') },
  },
  'bench',
);

// Access log on, to a file, buffered as `cephgate serve` buffers its stdout (logging.buffer_bytes).
const log = createLogger(config.logging, logDestination(config.logging, join(work, 'access.log')));
const stages: Record<string, string> = {};

let database: Database | null = null;
let audit: AuditSink;
if (a.audit === 'none') {
  // Only for the "unaudited mutation" reference row: the pipeline still calls the sink, which does nothing.
  audit = { recordIntent: async () => {}, recordRefusal: async () => {}, recordOutcome: async () => {}, ping: async () => true, close: async () => {} };
  stages.audit = 'no-op sink (reference row only)';
} else {
  database = await openDatabase(a.audit === 'pg' ? { url: a['pg-url'] ?? '', poolMax: config.audit.pool_max } : { pgliteDir: config.audit.pglite_dir });
  await migrateDatabase(database);
  audit = createAuditStore(database, {
    batchMax: config.audit.batch_max,
    queueMax: config.audit.queue_max,
    timeoutMs: config.audit.intent_timeout_ms,
    onError: (err) => log.error({ err }, 'audit write failed'),
  });
  stages.audit = `real (src/audit/store.ts on ${database.kind})`;
}

const bearer = createBearerAuthenticator(config.identity);
stages.authenticate = 'real (src/auth/bearer.ts + chain.ts, RS256 via dev IdP JWKS)';
const policy = compileSynthetic(Number(a.rules), a.shape as RuleShape, config.policy.max_inspect_bytes);
stages.policy = `real (src/policy/ compiled, ${policy.rules.length} rules, shape ${a.shape})`;
const matchRoute = createRouteMatcher({ catalogues: new Map([[CLUSTER, loadCatalogue('pacific')]]), defaultCluster: CLUSTER, allowUnknown: new Map() });
stages.route = 'real (src/ceph/route-matcher.ts, pacific catalogue)';
const upstream = createCephUpstream(config.ceph, { forward, log });
stages.upstream = 'real (src/ceph/upstream.ts: token exchange, version negotiation, mgr pool)';
stages.accessLog = `real (pino to a file, ${config.logging.buffer_bytes}-byte buffer)`;

const deps: PipelineDeps = {
  config,
  log,
  metrics: createMetrics(),
  trustedProxies: createTrustedProxies(config.server.trusted_proxies),
  authenticate: createAuthenticatorChain([bearer]),
  matchRoute,
  policy: () => policy,
  audit,
  upstream,
  now: () => new Date(),
};
// The same two paths as `cephgate serve`: the Ceph API before hono, everything else on hono.
const server = createPublicServer(
  // Tracing as `cephgate serve` has it: off unless the OTEL_* environment asks (the bench's tracing row sets it).
  createRequestListener({
    ...deps,
    proxy: createProxyHandler(deps),
    web: webRequestListener(createWebApp(deps), log),
    uiAtRoot: false,
    tracer: tracingFromEnv(process.env, log),
  }),
  config,
  log,
);
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));

async function totals(): Promise<{ intents: number; outcomes: number }> {
  if (database === null) return { intents: 0, outcomes: 0 };
  const db = database;
  const one = async (table: string) =>
    Number(((await db.db.execute(sql.raw(`select count(*)::int as n from ${table}`))) as unknown as { rows: { n: number }[] }).rows[0]?.n ?? 0);
  return { intents: await one('audit_intents'), outcomes: await one('audit_outcomes') };
}
// Scenarios share one Postgres database: count only what this gateway wrote.
const atStart = await totals();
async function counts(): Promise<Record<string, number>> {
  if (database === null) return {};
  const now = await totals();
  return { intents: now.intents - atStart.intents, outcomes: now.outcomes - atStart.outcomes };
}

process.on('message', (m: { cmd?: string; gc?: boolean }) => {
  if (m.cmd === 'memory') {
    // With gc: after a full collection, so heapUsed is what the gateway really holds, not garbage waiting for one.
    if (m.gc === true) {
      setFlagsFromString('--expose-gc');
      (runInNewContext('gc') as () => void)();
    }
    process.send?.({ reply: true, ...process.memoryUsage() });
  }
  if (m.cmd === 'stats')
    void counts().then(
      (c) => process.send?.({ reply: true, ...c }),
      (err: Error) => process.send?.({ reply: true, error: err.message }),
    );
});

async function shutdown(): Promise<void> {
  server.closeAllConnections();
  server.close();
  await upstream.close();
  await audit.close();
  await database?.close();
  rmSync(work, { recursive: true, force: true });
  process.exit(0);
}
process.once('SIGTERM', () => void shutdown());
answerProfileCommands();

announce({ port: (server.address() as AddressInfo).port, stages });
