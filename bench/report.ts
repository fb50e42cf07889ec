// The bench's output: one table (rows plus G/B1, G/B2 and G/B3 ratios from the same scenario of the same run), the
// policy microbenchmark, the issue's targets judged on these numbers, and the JSON written for comparisons.

import type { PolicyRow } from './policy-micro.ts';
import type { Row } from './scenarios.ts';

export interface RatioRow extends Row {
  readonly g_b1_rps?: number;
  readonly g_b1_p99?: number;
  readonly g_b2_rps?: number;
  readonly g_b2_p99?: number;
  readonly g_b3_rps?: number;
  readonly g_b3_p99?: number;
}

const r2 = (v: number) => Math.round(v * 100) / 100;

/** Adds ratios to every G row (G, G-pglite, ...) against B1/B2/B3 of its scenario. */
export function withRatios(rows: readonly Row[]): RatioRow[] {
  return rows.map((r) => {
    if (!r.target.startsWith('G') || r.rps === null) return r;
    const base = (t: string) => rows.find((x) => x.scenario === r.scenario && x.target === t && x.rps !== null);
    const out: Record<string, number> = {};
    for (const [t, k] of [
      ['B1', 'g_b1'],
      ['B2', 'g_b2'],
      ['B3', 'g_b3'],
    ] as const) {
      const b = base(t);
      if (b?.rps) out[`${k}_rps`] = r2((r.rps as number) / b.rps);
      if (b && b.p99 > 0) out[`${k}_p99`] = r2(r.p99 / b.p99);
    }
    return { ...r, ...out };
  });
}

export interface Target {
  readonly target: string;
  readonly status: 'met' | 'missed' | 'not measured';
  readonly detail: string;
}

export function judge(rows: readonly RatioRow[], policy: readonly PolicyRow[] | undefined): Target[] {
  const find = (s: string, t: string) => rows.find((r) => r.scenario === s && r.target === t);
  const out: Target[] = [];
  const g = find('get', 'G');
  if (g?.g_b1_rps === undefined || g.g_b1_p99 === undefined) out.push({ target: 'GET >= 0.8x B1 req/s, p99 <= 1.5x B1', status: 'not measured', detail: '' });
  else
    out.push({
      target: 'GET >= 0.8x B1 req/s, p99 <= 1.5x B1',
      status: g.g_b1_rps >= 0.8 && g.g_b1_p99 <= 1.5 ? 'met' : 'missed',
      detail: `G/B1 req/s ${g.g_b1_rps}, p99 ${g.g_b1_p99}`,
    });
  const p = policy?.filter((x) => x.rules === 1000);
  if (p === undefined || p.length === 0) out.push({ target: 'policy median < 5 µs at 1,000 rules', status: 'not measured', detail: '' });
  else {
    const worst = p.reduce((a, b) => (b.median_us > a.median_us ? b : a));
    out.push({
      target: 'policy median < 5 µs at 1,000 rules',
      status: worst.median_us < 5 ? 'met' : 'missed',
      detail: p.map((x) => `${x.shape}/${x.case} ${x.median_us} µs (bucket ${x.bucket})`).join('; '),
    });
  }
  // Throughput at saturation (mutation); p99 overhead at the same fixed offered load (mutation-rate).
  const pg = find('mutation', 'G-pg');
  const pgRate = find('mutation-rate', 'G-pg');
  const noauditRate = find('mutation-rate', 'G-noaudit');
  const AUDIT_TARGET = 'audited POST (Postgres) >= 1,000/s, p99 overhead < 5 ms at the same load, 0 lost';
  if (pg?.rps == null || pgRate?.rps == null || noauditRate === undefined)
    out.push({ target: AUDIT_TARGET, status: 'not measured', detail: 'needs scenarios mutation and mutation-rate' });
  else {
    const lost = Number(pg.extra?.lost ?? -1) + Number(pgRate.extra?.lost ?? -1);
    const overhead = r2(pgRate.p99 - noauditRate.p99);
    out.push({
      target: AUDIT_TARGET,
      status: pg.rps >= 1000 && overhead < 5 && lost === 0 ? 'met' : 'missed',
      detail: `${pg.rps} req/s at saturation; at ${String(pgRate.extra?.rate)} req/s p99 ${pgRate.p99} ms vs ${noauditRate.p99} ms unaudited (+${overhead} ms); lost ${lost}`,
    });
  }
  const long = find('long', 'G-pg') ?? find('long', 'G');
  if (long?.extra === undefined) out.push({ target: 'RSS < 150 MB after 1,000,000 requests, flat', status: 'not measured', detail: 'run with --long 1000000' });
  else {
    const { rssStartMb, rssEndMb } = long.extra as { rssStartMb: number; rssEndMb: number };
    out.push({ target: 'RSS < 150 MB after 1,000,000 requests, flat', status: rssEndMb < 150 ? 'met' : 'missed', detail: long.note ?? '' });
    void rssStartMb;
  }
  out.push({
    target: 'coalescing: ~1 Ceph request/s/account for 200 pollers',
    status: 'not measured',
    detail: 'measured against a real Ceph by `npx tsx bench/ceph-real.ts`',
  });
  out.push({
    target: 'through cephgate to real Ceph >= 0.95x direct',
    status: 'not measured',
    detail: 'measured against a real Ceph by `npx tsx bench/ceph-real.ts`',
  });
  return out;
}

function pad(cells: readonly string[][]): string {
  const widths = cells[0]?.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length))) ?? [];
  return cells
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

export function formatTable(rows: readonly RatioRow[]): string {
  const head = [
    'scenario',
    'target',
    'req/s',
    'p50 ms',
    'p99 ms',
    'RSS MB',
    'CPU µs/req',
    'G/B1 rps',
    'G/B1 p99',
    'G/B2 rps',
    'G/B2 p99',
    'G/B3 rps',
    'G/B3 p99',
    'status codes',
    'note',
  ];
  const s = (v: number | null | undefined) => (v === null || v === undefined ? '-' : String(v));
  return pad([
    head,
    ...rows.map((r) => [
      r.scenario,
      r.target,
      s(r.rps),
      s(r.p50),
      s(r.p99),
      s(r.rssMb),
      s(r.cpuUs),
      s(r.g_b1_rps),
      s(r.g_b1_p99),
      s(r.g_b2_rps),
      s(r.g_b2_p99),
      s(r.g_b3_rps),
      s(r.g_b3_p99),
      r.codes,
      r.note ?? '',
    ]),
  ]);
}

/** The `cost` scenario's rows side by side: µs per request per category for B1 and G, and what G adds. */
export function formatCost(rows: readonly Row[]): string | null {
  const b1Row = rows.find((r) => r.scenario === 'cost' && r.target === 'B1');
  const gRow = rows.find((r) => r.scenario === 'cost' && r.target === 'G');
  const b1 = b1Row?.extra?.categories as Record<string, number> | undefined;
  const g = gRow?.extra?.categories as Record<string, number> | undefined;
  if (b1 === undefined || g === undefined) return null;
  const added = (n: string) => (g[n] ?? 0) - (b1[n] ?? 0);
  const names = [...new Set([...Object.keys(b1), ...Object.keys(g)])].sort((x, y) => added(y) - added(x));
  const f = (v: number) => v.toFixed(1);
  const sum = (c: Record<string, number>) => Object.values(c).reduce((a, v) => a + v, 0);
  return pad([
    ['where', 'B1 µs/req', 'G µs/req', 'G - B1'],
    ...names.map((n) => [n, f(b1[n] ?? 0), f(g[n] ?? 0), f(added(n))]),
    ['all profiled (main thread)', f(sum(b1)), f(sum(g)), f(sum(g) - sum(b1))],
    [
      'process CPU (/proc, all threads, kernel included)',
      String(b1Row?.cpuUs ?? '-'),
      String(gRow?.cpuUs ?? '-'),
      String((gRow?.cpuUs ?? 0) - (b1Row?.cpuUs ?? 0)),
    ],
  ]);
}

export function formatPolicy(rows: readonly PolicyRow[]): string {
  const head = ['shape', 'rules', 'case', 'effect', 'bucket', 'median µs', 'p99 µs', 'samples'];
  return pad([
    head,
    ...rows.map((r) => [r.shape, String(r.rules), r.case, r.effect, String(r.bucket), String(r.median_us), String(r.p99_us), String(r.samples)]),
  ]);
}

export function formatTargets(ts: readonly Target[]): string {
  return ts.map((t) => `  [${t.status}] ${t.target}${t.detail ? ` — ${t.detail}` : ''}`).join('\n');
}
