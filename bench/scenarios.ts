// The bench scenarios. Each starts its servers one at a time (so idle ones never compete for the 2 cores),
// loads them from a separate process, and returns table rows. G is always compared with B1/B2/B3 of the same run.

import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { LoadJob } from './load.ts';
import type { PolicyRow } from './policy-micro.ts';
import { runJson } from './proc.ts';
import { type CpuProfile, costPerRequest } from './profile-categories.ts';
import { type BenchContext, type Measured, measure, measureSeq, requestFor, startTarget, stopTarget, type TargetKind, unavailable } from './targets.ts';

export interface Options {
  readonly duration: number;
  readonly connections: number;
  readonly warmup: number;
  readonly smoke: boolean;
  readonly long: number | null;
  /** Mints this many distinct tokens for the new-vs-cached scenario. */
  readonly tokenCount: number;
  readonly mintToken: () => Promise<string>;
  /** Offered load of `mutation-rate`, requests/s. */
  readonly rate: number;
  /** Offered load of `cost`, requests/s. */
  readonly costRate: number;
  /** Where `cost` writes its CPU profiles. */
  readonly profileDir: string;
}

export interface Row {
  readonly scenario: string;
  readonly target: string;
  readonly rps: number | null;
  readonly p50: number;
  readonly p99: number;
  readonly rssMb: number | null;
  /** The server process's CPU time per request, µs (null where not measured). */
  readonly cpuUs?: number | null;
  readonly codes: string;
  readonly note?: string;
  readonly extra?: Record<string, unknown>;
}

export const SCENARIOS = ['get', 'cost', 'denied', 'mutation', 'mutation-rate', 'policy', 'token', 'c1000'] as const;

/** The default offered load of `mutation-rate` (`--rate`): the audited-mutation throughput target. */
export const MUTATION_RATE = 1000;
/**
 * The offered load of `cost` (`--cost-rate`): well below what B1 and G can each serve on a 2-core machine, so
 * both do the same work per second and neither is measured while the other side of a socket sleeps.
 */
export const COST_RATE = 2000;
export type Scenario = (typeof SCENARIOS)[number] | 'long';

const BODY = JSON.stringify({ pool_name: 'team-a-rbd', name: 'vm-disk-9', size: 1073741824, features: ['layering'] });
const codesOf = (c: Record<string, number>) =>
  Object.entries(c)
    .map(([k, v]) => `${k}:${v}`)
    .join(' ');

function row(scenario: string, target: string, m: Measured, extra: Partial<Row> = {}): Row {
  const errors = m.errors + m.timeouts > 0 ? ` err:${m.errors} to:${m.timeouts}` : '';
  return {
    scenario,
    target,
    rps: m.rps,
    p50: m.p50,
    p99: m.p99,
    rssMb: m.rssEndMb,
    cpuUs: m.cpuUsPerRequest,
    codes: codesOf(m.statusCodes) + errors,
    ...extra,
  };
}

async function loadRows(
  ctx: BenchContext,
  o: Options,
  scenario: string,
  kinds: readonly TargetKind[],
  req: (k: TargetKind) => ReturnType<typeof requestFor>,
  over: Partial<Extract<LoadJob, { kind: 'load' }>> | { readonly kind: 'paced'; readonly rate: number } = {},
  after?: (k: TargetKind, m: Measured, ask: (msg: Record<string, unknown>) => Promise<Record<string, unknown>>) => Promise<Partial<Row>>,
): Promise<Row[]> {
  const rows: Row[] = [];
  const connections = 'connections' in over && over.connections !== undefined ? over.connections : o.connections;
  for (const kind of kinds) {
    const missing = unavailable(kind);
    if (missing !== null) {
      // Said in the table, so a run without a baseline is not mistaken for one that compared with it.
      console.error(`-- ${kind} skipped: ${missing}`);
      rows.push({ scenario, target: kind, rps: null, p50: 0, p99: 0, rssMb: null, codes: '', note: `skipped: ${missing}` });
      continue;
    }
    let t: Awaited<ReturnType<typeof startTarget>>;
    try {
      t = await startTarget(ctx, kind, connections);
    } catch (err) {
      rows.push({ scenario, target: kind, rps: null, p50: 0, p99: 0, rssMb: null, codes: '', note: `skipped: ${(err as Error).message}` });
      continue;
    }
    try {
      const m = await measure(t, {
        kind: 'load',
        url: t.url,
        connections: o.connections,
        duration: o.duration,
        warmup: o.warmup,
        requests: [req(kind)],
        ...over,
      } as LoadJob);
      const child = t.child;
      rows.push(row(scenario, kind, m, { ...(t.note === undefined ? {} : { note: t.note }), ...(after ? await after(kind, m, (msg) => child.ask(msg)) : {}) }));
    } finally {
      await stopTarget(t);
    }
  }
  return rows;
}

export async function runScenario(s: Scenario, ctx: BenchContext, o: Options): Promise<{ rows: Row[]; policy?: PolicyRow[] }> {
  switch (s) {
    case 'get':
      return { rows: await loadRows(ctx, o, 'get', ['B0', 'B1', 'B2', 'B3', 'G'], (k) => requestFor(ctx, k, 'GET', '/api/pool')) };
    case 'cost': {
      // CPU per authorised GET at the same offered load, with where it went (bench/profile-categories.ts):
      // B1 and G profiled over the measured window only. The G - B1 column is what the gateway costs in context.
      const rate = o.smoke ? 200 : o.costRate;
      const rows: Row[] = [];
      for (const kind of ['B1', 'G'] as const) {
        const t = await startTarget(ctx, kind);
        try {
          const file = join(o.profileDir, `cost-${kind}-${Date.now()}.cpuprofile`);
          const m = await measure(
            t,
            {
              kind: 'paced',
              url: t.url,
              connections: o.connections,
              duration: o.duration,
              rate,
              warmup: o.warmup,
              requests: [requestFor(ctx, kind, 'GET', '/api/pool')],
            },
            { profileTo: file },
          );
          // Kept for a closer look (Chrome DevTools, or `speedscope`), except from a smoke run (CI).
          const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
          if (o.smoke) rmSync(file, { force: true });
          rows.push(
            row('cost', kind, m, {
              note: `offered ${rate} req/s; profile ${file}`,
              extra: { rate, profile: file, categories: Object.fromEntries(costPerRequest(profile, m.total)) },
            }),
          );
        } finally {
          await stopTarget(t);
        }
      }
      return { rows };
    }
    case 'denied':
      // bob's groups match no rule: default deny after the whole bucket, and an audit record per refusal.
      return { rows: await loadRows(ctx, o, 'denied', ['G'], (k) => requestFor(ctx, k, 'GET', '/api/pool', { who: 'bob' })) };
    case 'c1000':
      return {
        rows: await loadRows(ctx, o, 'c1000', ['B1', 'B2', 'B3', 'G'], (k) => requestFor(ctx, k, 'GET', '/api/pool'), { connections: o.smoke ? 100 : 1000 }),
      };
    case 'mutation': {
      const rows = await loadRows(
        ctx,
        o,
        'mutation',
        ['B1', 'G-noaudit', 'G-pglite', 'G-pg'],
        (k) => requestFor(ctx, k, 'POST', '/api/block/image', { body: BODY }),
        {},
        async (k, m, ask) => {
          if (k !== 'G-pglite' && k !== 'G-pg') return {};
          const stats = await ask({ cmd: 'stats' });
          const forwarded = (m.statusCodes['201'] ?? 0) + (m.warmupStatusCodes['201'] ?? 0);
          const outcomes = Number(stats.outcomes ?? 0);
          const lost = Math.max(0, forwarded - outcomes);
          return {
            note: `audit: ${stats.intents} intents, ${outcomes} outcomes for ${forwarded} answered 201; lost ${lost}`,
            extra: { ...stats, forwarded, lost },
          };
        },
      );
      return { rows };
    }
    case 'mutation-rate': {
      // Latency at the same offered load with and without the audit log: the audit's p99 overhead.
      // (At saturation the p99 gap only restates the throughput gap: closed-loop clients queue.)
      const rate = o.smoke ? 100 : o.rate;
      const rows = await loadRows(
        ctx,
        o,
        'mutation-rate',
        ['G-noaudit', 'G-pg'],
        (k) => requestFor(ctx, k, 'POST', '/api/block/image', { body: BODY }),
        { kind: 'paced', rate },
        async (k, m, ask) => {
          const base = { extra: { rate } as Record<string, unknown>, note: `offered ${rate} req/s` };
          if (k !== 'G-pg') return base;
          const stats = await ask({ cmd: 'stats' });
          const forwarded = (m.statusCodes['201'] ?? 0) + (m.warmupStatusCodes['201'] ?? 0);
          const lost = Math.max(0, forwarded - Number(stats.outcomes ?? 0));
          return {
            note: `offered ${rate} req/s; audit: ${stats.intents} intents, ${stats.outcomes} outcomes for ${forwarded} answered 201; lost ${lost}`,
            extra: { ...stats, rate, forwarded, lost },
          };
        },
      );
      return { rows };
    }
    case 'token': {
      const t = await startTarget(ctx, 'G');
      try {
        const fresh: string[] = [];
        for (let i = 0; i < o.tokenCount; i++) fresh.push(await o.mintToken());
        const get = (token: string) => ({ method: 'GET', path: '/api/pool', headers: { authorization: `Bearer ${token}`, accept: 'application/json' } });
        const r = await measureSeq({
          kind: 'seq',
          url: t.url,
          sequences: [
            { label: 'warm', requests: Array.from({ length: 50 }, () => get(ctx.tokens.alice)) },
            { label: 'new', requests: fresh.map(get) },
            { label: 'cached', requests: Array.from({ length: o.tokenCount }, () => get(ctx.tokens.alice)) },
          ],
        });
        return {
          rows: (['new', 'cached'] as const).map((label) => {
            const x = r[label] ?? { n: 0, p50: 0, p99: 0, statusCodes: {} };
            return {
              scenario: 'token',
              target: `G ${label} token`,
              rps: null,
              p50: x.p50,
              p99: x.p99,
              rssMb: null,
              codes: codesOf(x.statusCodes),
              note: `${x.n} sequential requests, 1 connection`,
            };
          }),
        };
      } finally {
        await stopTarget(t);
      }
    }
    case 'policy': {
      const policy = await runJson<PolicyRow[]>('policy-micro.ts', o.smoke ? ['--iterations', '300', '--counts', '10,1000'] : []);
      return { rows: [], policy };
    }
    case 'long': {
      const amount = o.long ?? 1_000_000;
      // The production shape: the audit log in Postgres (PGlite's WASM heap alone is ~400 MB of RSS).
      const rows = await loadRows(
        ctx,
        o,
        'long',
        [ctx.pgUrl === null ? 'G' : 'G-pg'],
        (k) => requestFor(ctx, k, 'GET', '/api/pool'),
        { amount, warmup: 2 },
        async (_k, m, ask) => {
          // RSS right after the last answer, then after 10 idle seconds (V8 gives pages back lazily),
          // then after a forced full GC, with the live heap: what the gateway holds vs what V8 keeps.
          await new Promise((r) => setTimeout(r, o.smoke ? 1000 : 10_000));
          const idleMb = (await ask({ cmd: 'memory', gc: false })).rss;
          const mem = await ask({ cmd: 'memory', gc: true });
          const mb = (v: unknown) => Math.round(Number(v ?? 0) / 2 ** 20);
          return {
            note: `${amount} requests; RSS start ${m.rssStartMb} MB, max ${m.rssMaxMb} MB, end ${m.rssEndMb} MB, 10 s idle ${mb(idleMb)} MB, after a full GC ${mb(mem.rss)} MB (V8 heap ${mb(mem.heapUsed)}/${mb(mem.heapTotal)} MB used/total)`,
            extra: {
              rssStartMb: m.rssStartMb,
              rssMaxMb: m.rssMaxMb,
              rssEndMb: m.rssEndMb,
              rssIdleMb: mb(idleMb),
              rssAfterGcMb: mb(mem.rss),
              heapUsedMb: mb(mem.heapUsed),
              heapTotalMb: mb(mem.heapTotal),
              externalMb: mb(mem.external),
            },
          };
        },
      );
      return { rows };
    }
  }
}
