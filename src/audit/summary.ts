// Counts of mutations and denials per UTC day, per pool or per person, over a bounded time range:
// the audit viewer's summary ("what did team-a change this week", "who deleted pool X").

import { and, gte, lt, type SQL, sql } from 'drizzle-orm';
import type { Db } from '../db/database.ts';
import { auditIntents as i } from '../db/schema.ts';

export type SummaryBy = 'pool' | 'principal';

export interface SummaryQuery {
  /** received_at >= from */
  readonly from: Date;
  /** received_at < to */
  readonly to: Date;
  readonly by: SummaryBy;
  /** Only principals in this group. */
  readonly group?: string;
  readonly cluster?: string;
}

export interface SummaryCell {
  /** UTC day, `YYYY-MM-DD`. */
  readonly day: string;
  /** Allowed POST, PUT, PATCH and DELETE requests (whatever Ceph then answered). */
  readonly mutations: number;
  /** Requests the policy denied (any method). */
  readonly denials: number;
}

export interface SummaryRow {
  /** The pool name, or the principal id (null: requests without a principal). */
  readonly key: string | null;
  /** The principal's latest display name in the range (per-person view only). */
  readonly label: string | null;
  readonly total: { readonly mutations: number; readonly denials: number };
  readonly days: readonly SummaryCell[];
}

/** The most keys (pools or people) one summary returns, busiest first. */
export const SUMMARY_MAX_KEYS = 200;

/**
 * One grouped scan of the range on the received_at index, counted per (key, UTC day) in the database.
 * Records that name no pool are not in the per-pool view; a record that names two pools counts once
 * for each: the rows are first grouped by their pool list, and only those few groups are expanded.
 * JIT is off for it: the planner over-estimates the expansion, and compiling the plan took seconds
 * (bench/audit-viewer.ts) for a scan that runs in a fraction of that.
 */
export async function summarizeAudit(db: Db, q: SummaryQuery): Promise<SummaryRow[]> {
  const conds: SQL[] = [gte(i.receivedAt, q.from), lt(i.receivedAt, q.to)];
  if (q.group !== undefined) conds.push(sql`${i.principalGroups} @> ${JSON.stringify([q.group])}::jsonb`);
  if (q.cluster !== undefined) conds.push(sql`${i.cluster} = ${q.cluster}`);
  // GETs are recorded only as denials (or when reads are audited): only mutating methods count as changes.
  const mutation = sql`${i.method} in ('POST', 'PUT', 'PATCH', 'DELETE') and ${i.decisionEffect} = 'allow'`;
  const denial = sql`${i.decisionEffect} = 'deny'`;
  const counts = sql`date_trunc('day', ${i.receivedAt}, 'UTC') as day, count(*) filter (where ${mutation}) as mutations, count(*) filter (where ${denial}) as denials`;
  const where = sql`${and(...conds)} and (${mutation} or ${denial})`;
  const day = sql`to_char(g.day at time zone 'UTC', 'YYYY-MM-DD')`;
  const query =
    q.by === 'pool'
      ? sql`select p.pool as key, null as label, ${day} as day, sum(g.mutations) as mutations, sum(g.denials) as denials
          from (select ${i.pools} as pools, ${counts} from ${i} where ${where} group by 1, 2) g
          cross join lateral jsonb_array_elements_text(g.pools) as p(pool)
          group by 1, 3`
      : sql`select g.key, g.label, ${day} as day, g.mutations, g.denials
          from (select ${i.principalId} as key, max(${i.principalName}) as label, ${counts} from ${i} where ${where} group by 1, 3) g`;
  const result = (await db.transaction(async (tx) => {
    await tx.execute(sql`set local jit = off`);
    return tx.execute(query);
  })) as unknown as { rows: GroupRow[] };
  return gather(result.rows);
}

/** One (key, day) group as the database returns it (counts are bigint: text on Postgres, numbers on PGlite). */
interface GroupRow {
  readonly key: string | null;
  readonly label: string | null;
  readonly day: string;
  readonly mutations: string | number;
  readonly denials: string | number;
}

/** Folds (key, day) rows into one row per key with its days in order, busiest keys first. */
function gather(rows: readonly GroupRow[]): SummaryRow[] {
  const byKey = new Map<string | null, { label: string | null; days: SummaryCell[]; m: number; d: number }>();
  for (const r of rows) {
    const cell = { day: r.day, mutations: Number(r.mutations), denials: Number(r.denials) };
    const k = byKey.get(r.key) ?? { label: null, days: [], m: 0, d: 0 };
    k.label ??= r.label;
    k.days.push(cell);
    k.m += cell.mutations;
    k.d += cell.denials;
    byKey.set(r.key, k);
  }
  return [...byKey]
    .map(([key, k]) => ({ key, label: k.label, total: { mutations: k.m, denials: k.d }, days: k.days.sort((a, b) => a.day.localeCompare(b.day)) }))
    .sort((a, b) => b.total.mutations + b.total.denials - (a.total.mutations + a.total.denials) || String(a.key).localeCompare(String(b.key)))
    .slice(0, SUMMARY_MAX_KEYS);
}
