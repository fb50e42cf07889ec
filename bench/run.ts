// `npm run bench`: starts the stub upstream and the dev IdP, runs the scenarios (baselines and cephgate in the
// same run), prints one table and writes it as JSON (bench/results/<date>-<sha>.json). See docs/performance.md.

import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { startDevIdp } from '../scripts/dev-idp/provider.ts';
import { mintProbeTokens } from './auth-probes.ts';
import type { PolicyRow } from './policy-micro.ts';
import { BENCH_DIR, startTsChild } from './proc.ts';
import { formatCost, formatPolicy, formatTable, formatTargets, judge, withRatios } from './report.ts';
import { COST_RATE, MUTATION_RATE, type Row, runScenario, SCENARIOS, type Scenario } from './scenarios.ts';
import { type BenchContext, pinLoadGenerator } from './targets.ts';

const { values: a } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    connections: { type: 'string', default: '50' },
    warmup: { type: 'string' },
    scenarios: { type: 'string' },
    json: { type: 'string' },
    smoke: { type: 'boolean', default: false },
    long: { type: 'string' },
    rules: { type: 'string', default: '1000' },
    shape: { type: 'string', default: 'teams' },
    'cpu-prof': { type: 'boolean', default: false },
    compiled: { type: 'boolean', default: false },
    rate: { type: 'string', default: String(MUTATION_RATE) },
    'cost-rate': { type: 'string', default: String(COST_RATE) },
    'pin-load': { type: 'string' },
    'gateway-node-args': { type: 'string' },
  },
});
const smoke = a.smoke;
const scenarios: Scenario[] = a.scenarios ? (a.scenarios.split(',') as Scenario[]) : smoke ? ['get', 'cost', 'mutation-rate'] : [...SCENARIOS];
if (a.long !== undefined && !scenarios.includes('long')) scenarios.push('long');
for (const s of scenarios)
  if (!(SCENARIOS as readonly string[]).includes(s) && s !== 'long') throw new Error(`unknown scenario ${s}; known: ${SCENARIOS.join(', ')}, long`);

const PG_ADMIN = process.env.CEPHGATE_BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** A throwaway Postgres database for the audited-mutation scenario, or null when Postgres is not reachable. */
async function throwawayDb(): Promise<{ url: string; drop: () => Promise<void> } | null> {
  const admin = new pg.Client({ connectionString: PG_ADMIN, connectionTimeoutMillis: 2000 });
  try {
    await admin.connect();
  } catch (err) {
    console.error(`Postgres unreachable at ${PG_ADMIN} (${(err as Error).message}): the G-pg row is skipped`);
    return null;
  }
  const name = `cephgate_bench_${randomBytes(5).toString('hex')}`;
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const u = new URL(PG_ADMIN);
  u.pathname = `/${name}`;
  const drop = async () => {
    const c = new pg.Client({ connectionString: PG_ADMIN });
    await c.connect();
    await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await c.end();
  };
  return { url: u.toString(), drop };
}

function gitSha(): string {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: BENCH_DIR, encoding: 'utf8' }).trim();
  } catch {
    return 'nogit';
  }
}

const started = new Date();
const load1 = loadavg()[0] ?? 0;
const stub = await startTsChild('stub-upstream.ts', []);
// Tokens live an hour: they are minted once, and a full run (with --long) can outlast the default 10 minutes.
const idp = await startDevIdp({ tokenTtlSeconds: 3600 });
const db = scenarios.some((s) => s === 'mutation' || s === 'mutation-rate' || s === 'long') ? await throwawayDb() : null;
// Outside the repository: only bench/results/*.json is gitignored.
const profDir = join(tmpdir(), 'cephgate-bench-profiles');
if (a['cpu-prof'] || scenarios.includes('cost')) mkdirSync(profDir, { recursive: true });
// --compiled: G runs from tsc's output with plain node, as `cephgate serve` runs from dist/ (no tsx
// loader in the process: what the RSS target is about).
let compiledDir: string | null = null;
if (a.compiled) {
  // Inside the project (node_modules/.cache), so that the compiled files resolve the project's packages.
  const cache = join(BENCH_DIR, '..', 'node_modules', '.cache');
  mkdirSync(cache, { recursive: true });
  compiledDir = mkdtempSync(join(cache, 'cephgate-bench-dist-'));
  console.error(`-- compiling with tsc into ${compiledDir}`);
  // Data files found relative to the code (migrations, the example policies): linked next to the compiled tree.
  for (const d of ['drizzle', 'policies']) symlinkSync(join(BENCH_DIR, '..', d), join(compiledDir, d));
  execFileSync(
    process.execPath,
    [
      join(BENCH_DIR, '..', 'node_modules', 'typescript', 'bin', 'tsc'),
      '-p',
      join(BENCH_DIR, '..', 'tsconfig.json'),
      '--outDir',
      compiledDir,
      '--noEmit',
      'false',
    ],
    { stdio: 'inherit' },
  );
}
pinLoadGenerator(a['pin-load'] ?? null);
const tokens = { alice: await idp.tokenFor('alice'), bob: await idp.tokenFor('bob') };
const ctx: BenchContext = {
  stub,
  stubToken: String(stub.info.token),
  issuer: idp.issuer,
  tokens,
  probes: await mintProbeTokens(idp, tokens.alice),
  pgUrl: db?.url ?? null,
  rules: Number(a.rules),
  shape: a.shape,
  gatewayNodeArgs: [
    ...(a['cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : []),
    ...(a['gateway-node-args'] ?? '').split(' ').filter((f) => f !== ''),
  ],
  compiledDir,
  stages: null,
};
const opts = {
  duration: smoke ? 1 : Number(a.duration),
  connections: smoke ? 10 : Number(a.connections),
  warmup: a.warmup !== undefined ? Number(a.warmup) : smoke ? 0 : 2,
  smoke,
  long: a.long === undefined ? null : Number(a.long),
  tokenCount: smoke ? 5 : 200,
  rate: Number(a.rate),
  costRate: Number(a['cost-rate']),
  profileDir: profDir,
  mintToken: () => idp.tokenFor('alice'),
};

const rows: Row[] = [];
let policy: PolicyRow[] | undefined;
try {
  for (const s of scenarios) {
    console.error(`-- scenario ${s}`);
    try {
      const r = await runScenario(s, ctx, opts);
      rows.push(...r.rows);
      if (r.policy) policy = r.policy;
    } catch (err) {
      // One broken scenario must not lose the others' numbers.
      console.error(`scenario ${s} failed:`, err);
      rows.push({ scenario: s, target: '-', rps: null, p50: 0, p99: 0, rssMb: null, codes: '', note: `failed: ${(err as Error).message}` });
    }
  }
} finally {
  await stub.stop();
  await idp.stop();
  await db?.drop();
  if (compiledDir !== null) rmSync(compiledDir, { recursive: true, force: true });
}

const table = withRatios(rows);
const targets = judge(table, policy);
const machine = { cpus: cpus().length, model: cpus()[0]?.model ?? '', memGb: Math.round(totalmem() / 2 ** 30), node: process.version };
const loadAvg = { start: load1, end: loadavg()[0] ?? 0 };
const command = `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim();
console.log(
  `\ncephgate bench ${started.toISOString()} (${gitSha()}); ${machine.cpus} cores ${machine.model}; load average ${loadAvg.start.toFixed(2)} -> ${loadAvg.end.toFixed(2)}`,
);
console.log(
  `options: duration ${opts.duration}s, connections ${opts.connections}, warm-up ${opts.warmup}s, ${ctx.rules} rules (${ctx.shape}); G ${compiledDir === null ? 'under tsx' : 'compiled by tsc, plain node'}${a['gateway-node-args'] === undefined ? '' : ` with ${a['gateway-node-args']}`}${a['pin-load'] === undefined ? '' : `; load generator pinned to CPU ${a['pin-load']}`}`,
);
if (ctx.stages)
  console.log(
    `G stages: ${Object.entries(ctx.stages)
      .map(([k, v]) => `${k}=${v}`)
      .join('; ')}`,
  );
console.log(`\n${formatTable(table)}`);
const cost = formatCost(table);
if (cost !== null) console.log(`\nCPU per authorised GET at the same offered load (µs per request, self time by where it ran)\n${cost}`);
if (policy) console.log(`\npolicy decide() microbenchmark\n${formatPolicy(policy)}`);
console.log(`\ntargets (issue 8)\n${formatTargets(targets)}`);

const stamp = started.toISOString().replace(/[:.]/g, '').replace('T', '-').slice(0, 15);
const out = a.json ?? join(BENCH_DIR, 'results', `${stamp}-${gitSha()}.json`);
writeFileSync(
  out,
  `${JSON.stringify({ date: started.toISOString(), sha: gitSha(), command, machine, loadAvg, options: { ...opts, mintToken: undefined, rules: ctx.rules, shape: ctx.shape }, stages: ctx.stages, rows: table, policy: policy ?? null, targets }, null, 2)}\n`,
);
console.log(`\nwritten ${out}${a['cpu-prof'] ? `; G profiles in ${profDir}` : ''}`);
