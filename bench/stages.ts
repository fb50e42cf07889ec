// The cost of each stage of an authorised GET, measured alone (issue 19): the same modules the gateway runs,
// one stage at a time, in this process with nothing else on its event loop. CPU stages are timed over
// batches (median of rounds, ns per call); the upstream call is real HTTP to the stub upstream in its own
// process, and counts this process's CPU per request (undici's client side plus the gateway's own work
// around it). Each stage has a budget: the sum of the budgets is what an authorised GET may cost over
// the bare proxy (B1) for the gateway to reach 0.8x of it (docs/performance.md, "Stage budgets").
//
//   npx tsx bench/stages.ts [--rounds 15] [--batch 20000] [--json out.json]     (--smoke: a few rounds, for CI)

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createLocalJWKSet, exportJWK, generateKeyPair, SignJWT } from 'jose';
import { createBearerAuthenticator } from '../src/auth/bearer.ts';
import { createAuthenticatorChain } from '../src/auth/chain.ts';
import { loadCatalogue } from '../src/ceph/catalogue.ts';
import { cephAnswerHeaders, upstreamHeaders } from '../src/ceph/request-prep.ts';
import { createRouteMatcher } from '../src/ceph/route-matcher.ts';
import { createCephUpstream } from '../src/ceph/upstream.ts';
import { negotiate } from '../src/ceph/versions.ts';
import { validateConfig } from '../src/config/load.ts';
import type { RequestState } from '../src/core/request-state.ts';
import { headersFromRaw } from '../src/intake/headers.ts';
import { chooseRequestId } from '../src/intake/request-id.ts';
import { checkHeaders, newRequestState } from '../src/intake/request-state.ts';
import { parseRequestTarget } from '../src/intake/request-target.ts';
import { createTrustedProxies } from '../src/intake/trusted-proxies.ts';
import { forward } from '../src/proxy/forward.ts';
import { clientResponseHeaders, upstreamRequestHeaders } from '../src/proxy/headers.ts';
import { logRequest } from '../src/telemetry/access-log.ts';
import { createLogger, logDestination } from '../src/telemetry/logger.ts';
import { createMetrics } from '../src/telemetry/metrics.ts';
import { startTsChild } from './proc.ts';
import { BUDGET_US } from './stage-budgets.ts';
import { ACCOUNTS, CLUSTER, compileSynthetic } from './synthetic-rules.ts';

const { values: a } = parseArgs({
  options: {
    rounds: { type: 'string', default: '15' },
    batch: { type: 'string', default: '20000' },
    requests: { type: 'string', default: '20000' },
    smoke: { type: 'boolean', default: false },
    json: { type: 'string' },
  },
});
const rounds = a.smoke ? 3 : Number(a.rounds);
const batch = a.smoke ? 2000 : Number(a.batch);
const requests = a.smoke ? 2000 : Number(a.requests);

interface StageRow {
  readonly stage: string;
  readonly median_ns: number;
  readonly min_ns: number;
  readonly budget_ns: number | null;
  readonly over: boolean;
}

const rows: StageRow[] = [];
let sink: unknown;

/** Median and minimum ns per call of `fn` over `rounds` batches (after a warm-up batch). */
async function measure(stage: string, fn: () => unknown | Promise<unknown>, async = false): Promise<void> {
  const perCall: number[] = [];
  for (let r = -1; r < rounds; r++) {
    const t0 = process.hrtime.bigint();
    if (async) for (let i = 0; i < batch; i++) sink = await fn();
    else for (let i = 0; i < batch; i++) sink = fn();
    const ns = Number(process.hrtime.bigint() - t0) / batch;
    if (r >= 0) perCall.push(ns);
  }
  perCall.sort((x, y) => x - y);
  const median = perCall[Math.floor(perCall.length / 2)] as number;
  const budget = BUDGET_US[stage] === undefined ? null : (BUDGET_US[stage] as number) * 1000;
  rows.push({ stage, median_ns: Math.round(median), min_ns: Math.round(perCall[0] as number), budget_ns: budget, over: budget !== null && median > budget });
}

// --- the pieces, built as gateway-child.ts builds them -------------------------------------------------

const { privateKey, publicKey } = await generateKeyPair('RS256');
const jwk = { ...(await exportJWK(publicKey)), kid: 'bench', alg: 'RS256', use: 'sig' };
const ISSUER = 'https://idp.bench.invalid';
const token = await new SignJWT({ groups: ['team-a'], name: 'alice' })
  .setProtectedHeader({ alg: 'RS256', kid: 'bench', typ: 'JWT' })
  .setIssuer(ISSUER)
  .setAudience('cephgate')
  .setSubject('alice')
  .setIssuedAt()
  .setExpirationTime('2h')
  .sign(privateKey);

const stub = await startTsChild('stub-upstream.ts', []);
const upstreamUrl = `http://127.0.0.1:${stub.info.port}`;
const work = mkdtempSync(join(tmpdir(), 'cephgate-bench-stages-'));
const config = validateConfig(
  {
    server: { listen: { host: '127.0.0.1', port: 0 } },
    logging: { level: 'info', format: 'json' },
    ceph: {
      default_cluster: CLUSTER,
      clusters: [
        {
          name: CLUSTER,
          dashboards: [upstreamUrl],
          release: 'pacific',
          accounts: ACCOUNTS.map((name) => ({ name, username: name, password: 'bench' })),
          default_account: 'reader',
        },
      ],
    },
    identity: { issuers: [{ name: 'bench', issuer: ISSUER, audiences: ['cephgate'] }] },
    audit: { pglite_dir: join(work, 'audit') },
  },
  'bench',
);
const log = createLogger(config.logging, logDestination(config.logging, join(work, 'access.log')));
const metrics = createMetrics();
const trusted = createTrustedProxies(config.server.trusted_proxies);
const authenticate = createAuthenticatorChain([createBearerAuthenticator(config.identity, { keysFor: () => createLocalJWKSet({ keys: [jwk] }) })]);
const matchRoute = createRouteMatcher({ catalogues: new Map([[CLUSTER, loadCatalogue('pacific')]]), defaultCluster: CLUSTER, allowUnknown: new Map() });
const policy = compileSynthetic(1000, 'teams');
const upstream = createCephUpstream(config.ceph, { forward, log });

// What wrk sends (Host, Authorization, Accept), as Node's parser hands it over.
const RAW = ['Host', '127.0.0.1:8080', 'Authorization', `Bearer ${token}`, 'Accept', 'application/json', 'User-Agent', 'wrk'];
const intake = () => {
  const state = newRequestState({ trustedProxies: trusted, now: () => new Date() }, headersFromRaw(RAW), '127.0.0.1');
  checkHeaders(state.headers);
  state.target = parseRequestTarget('/api/pool');
  return state;
};
const state = intake();
const route = matchRoute('GET', state.target);
const principal = await authenticate({ method: 'GET', headers: state.headers, target: state.target, clientIp: state.clientIp });
const decisionInput = { principal, method: 'GET' as const, route, query: {}, body: null, contentType: null, now: new Date() };
state.route = route;
state.principal = principal;
state.decision = policy.decide(decisionInput);
state.upstreamStatus = 200;
const cephAnswer = {
  'content-type': 'application/vnd.ceph.api.v1.0+json',
  'content-length': '3433',
  date: new Date().toUTCString(),
  server: 'CherryPy/18.6.1',
};
/** A Ceph token as long as a real one (~600 characters). */
const SERVICE_TOKEN = 'x'.repeat(600);
const forwarding = { requestId: state.requestId, clientIp: '127.0.0.1', fromTrustedProxy: false, proto: 'http' as const, host: '127.0.0.1:8080' };

// --- the stages ------------------------------------------------------------------------------------------

await measure('intake + request id', intake);
await measure('request id alone', () => chooseRequestId(undefined, false));
await measure(
  'authenticate (cached bearer)',
  () => authenticate({ method: 'GET', headers: state.headers, target: state.target, clientIp: state.clientIp }),
  true,
);
await measure('route match', () => matchRoute('GET', state.target));
await measure('decide', () => policy.decide(decisionInput));
await measure('header preparation (to Ceph)', () => {
  const neg = negotiate({ clientAccept: 'application/json', method: 'GET', operation: route.operation, template: route.template, pins: {}, learned: null });
  return upstreamHeaders(upstreamRequestHeaders(state.headers, forwarding), { method: 'GET', accept: neg.accept, token: SERVICE_TOKEN, body: null });
});
await measure('response headers (to the client)', () => clientResponseHeaders(cephAnswerHeaders(cephAnswer, true)));
await measure('access log line', () => logRequest({ log, metrics }, state as RequestState, 'GET', 200, performance.now() - 1));
await measure('metrics', () => {
  // What one authorised GET observes besides the access log's own counter and histogram (counted above).
  metrics.policySeconds.observe(0.000001);
  metrics.upstreamAnswers.inc({ cluster: CLUSTER, shared: 'no' });
  metrics.upstreamSeconds.observe({ cluster: CLUSTER }, 0.0004);
});

// The upstream call: real HTTP to the stub, 20 at a time; CPU of this process per request.
async function upstreamCpuPerRequest(): Promise<number> {
  const send = async () => {
    const res = await upstream.send({
      requestId: state.requestId,
      cluster: CLUSTER,
      cephAccount: 'reader',
      method: 'GET',
      pathAndQuery: '/api/pool',
      headers: upstreamRequestHeaders(state.headers, forwarding),
      body: null,
      operation: route.operation,
      clientAccept: 'application/json',
    });
    for await (const _ of res.body) {
      // drain, as the answer stage does
    }
  };
  for (let i = 0; i < 500; i++) await send(); // warm-up, token exchange done
  const cpu0 = process.cpuUsage();
  let next = 0;
  await Promise.all(
    Array.from({ length: 20 }, async () => {
      while (next++ < requests) await send();
    }),
  );
  const cpu = process.cpuUsage(cpu0);
  return ((cpu.user + cpu.system) * 1000) / requests;
}
const upstreamNs = await upstreamCpuPerRequest();
rows.push({
  stage: 'upstream call + answer body (CPU of this process, HTTP)',
  median_ns: Math.round(upstreamNs),
  min_ns: Math.round(upstreamNs),
  budget_ns: null,
  over: false,
});

await upstream.close();
await stub.stop();

const budgeted = rows.filter((r) => r.budget_ns !== null);
const total = budgeted.reduce((s, r) => s + r.median_ns, 0);
const budgetTotal = budgeted.reduce((s, r) => s + (r.budget_ns as number), 0);
console.log(`\nstage costs of an authorised GET (${rounds} rounds of ${batch} calls, median ns per call)\n`);
console.log(`${'stage'.padEnd(58)}${'median µs'.padStart(11)}${'min µs'.padStart(9)}${'budget µs'.padStart(11)}`);
for (const r of rows)
  console.log(
    `${r.stage.padEnd(58)}${(r.median_ns / 1000).toFixed(2).padStart(11)}${(r.min_ns / 1000).toFixed(2).padStart(9)}${r.budget_ns === null ? '-'.padStart(11) : (r.budget_ns / 1000).toFixed(2).padStart(11)}${r.over ? '  OVER' : ''}`,
  );
console.log(
  `${'gateway stages (budgeted) total'.padEnd(58)}${(total / 1000).toFixed(2).padStart(11)}${''.padStart(9)}${(budgetTotal / 1000).toFixed(2).padStart(11)}`,
);
if (a.json) writeFileSync(a.json, JSON.stringify({ at: new Date().toISOString(), rounds, batch, rows }, null, 2));
void sink;
process.exit(0);
