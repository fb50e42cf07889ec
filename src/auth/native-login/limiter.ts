// Brute-force guard for Ceph-native logins, shared by every gateway instance: the counters of a user and
// of a client address live in `native_login_counters`, and each admission or verdict changes both rows
// under their row locks in one transaction. So 10 wrong passwords spread over any number of instances
// are counted as 10, and a concurrent burst cannot pass a limit (in-flight attempts count). The rules
// themselves are pure (limiter-rules.ts).

import { randomUUID } from 'node:crypto';
import { and, eq, inArray, like, lt, or, sql } from 'drizzle-orm';
import type { Database, Db } from '../../db/database.ts';
import { nativeLoginCounters } from '../../db/schema.ts';
import { type Counters, emptyCounters, isEmpty, judge, type LimiterPolicy, prune, type Refusal, settle, type Verdict } from './limiter-rules.ts';

export type { LimiterPolicy } from './limiter-rules.ts';

export type Admission = { readonly ok: true; readonly attempt: Attempt } | ({ readonly ok: false } & Refusal);

export interface Attempt {
  /** Ceph accepted the password: the user's consecutive count is reset (as Ceph resets its own). */
  succeeded(): Promise<void>;
  /** Ceph refused the password (400 invalid_credentials): counts towards every limit. */
  failed(): Promise<void>;
  /** No verdict (Ceph unreachable, 5xx): releases the reservation without counting. */
  abandoned(): Promise<void>;
}

export interface LoginLimiter {
  /** Reserves an attempt for `user` from `client`, or refuses. Throws when the database cannot be reached (fail closed). */
  admit(user: string, client: string): Promise<Admission>;
  /** Forget a user's failures (an administrator re-enabled or reset the account in Ceph). */
  reset(user: string): Promise<void>;
  /** Current figures, for tests and diagnostics. */
  peek(user: string): Promise<{ failures: number; inflight: number; consecutive: number }>;
}

export interface LoginLimiterOptions {
  readonly database: Database;
  /** Distinguishes clusters: each has its own policy and counters. */
  readonly cluster: string;
  readonly policy: LimiterPolicy;
  readonly now?: () => number;
}

const userKey = (cluster: string, user: string) => `user:${cluster}/${user}`;
const clientKey = (cluster: string, client: string) => `client:${cluster}/${client}`;

/** Both rows, created when missing and locked in key order (two transactions never wait on each other crosswise). */
async function lockPair(tx: Db, keys: readonly [string, string], t: number): Promise<[Counters, Counters]> {
  const sorted = [...keys].sort();
  await tx
    .insert(nativeLoginCounters)
    .values(sorted.map((key) => ({ key, updatedAt: new Date(t) })))
    .onConflictDoNothing();
  const rows = await tx.select().from(nativeLoginCounters).where(inArray(nativeLoginCounters.key, sorted)).orderBy(nativeLoginCounters.key).for('update');
  const of = (key: string): Counters => {
    const r = rows.find((x) => x.key === key);
    return r === undefined ? emptyCounters() : { failures: [...r.failures], pending: { ...r.pending }, consecutive: r.consecutive };
  };
  return [of(keys[0]), of(keys[1])];
}

async function store(tx: Db, key: string, c: Counters, t: number): Promise<void> {
  if (isEmpty(c)) {
    await tx.delete(nativeLoginCounters).where(eq(nativeLoginCounters.key, key));
    return;
  }
  await tx
    .update(nativeLoginCounters)
    .set({ failures: c.failures, pending: c.pending, consecutive: c.consecutive, updatedAt: new Date(t) })
    .where(eq(nativeLoginCounters.key, key));
}

/** How often an instance clears rows nobody touched for a whole window (clients and users that stopped trying). */
const SWEEP_EVERY_MS = 10 * 60_000;

export function createLoginLimiter(o: LoginLimiterOptions): LoginLimiter {
  const now = o.now ?? Date.now;
  const { database, policy } = o;
  let lastSweep = now();

  /** Rows whose every failure left the window, with nothing in flight and no consecutive count (which never decays). */
  const sweep = (t: number): void => {
    if (t - lastSweep < SWEEP_EVERY_MS) return;
    lastSweep = t;
    database.db
      .delete(nativeLoginCounters)
      .where(
        and(
          lt(nativeLoginCounters.updatedAt, new Date(t - Math.max(policy.windowMs, 0))),
          eq(nativeLoginCounters.consecutive, 0),
          sql`${nativeLoginCounters.pending} = '{}'::jsonb`,
          // This cluster's rows only: another cluster's window may be longer.
          or(like(nativeLoginCounters.key, `user:${o.cluster}/%`), like(nativeLoginCounters.key, `client:${o.cluster}/%`)),
        ),
      )
      .catch(() => {}); // a missed sweep only leaves rows for the next one
  };

  /** Runs `change` on the pair's counters under their locks and writes them back. */
  const withPair = <T>(keys: readonly [string, string], change: (u: Counters, c: Counters, t: number) => T): Promise<T> =>
    database.transaction(async (tx) => {
      const t = now();
      const [u, c] = await lockPair(tx, keys, t);
      prune(u, policy, t);
      prune(c, policy, t);
      const out = change(u, c, t);
      await store(tx, keys[0], u, t);
      await store(tx, keys[1], c, t);
      return out;
    });

  return {
    async admit(user, client) {
      const keys = [userKey(o.cluster, user), clientKey(o.cluster, client)] as const;
      const id = randomUUID();
      sweep(now());
      const refusal = await withPair(keys, (u, c, t) => {
        const r = judge(u, c, policy, t);
        if (r === null) {
          u.pending[id] = t;
          c.pending[id] = t;
        }
        return r;
      });
      if (refusal !== null) return { ok: false, ...refusal };
      let settled = false;
      const finish = async (verdict: Verdict) => {
        if (settled) return;
        settled = true;
        await withPair(keys, (u, c, t) => settle(u, c, id, verdict, t));
      };
      return { ok: true, attempt: { succeeded: () => finish('succeeded'), failed: () => finish('failed'), abandoned: () => finish('abandoned') } };
    },
    async reset(user) {
      await database.db.delete(nativeLoginCounters).where(eq(nativeLoginCounters.key, userKey(o.cluster, user)));
    },
    async peek(user) {
      const rows = await database.db
        .select()
        .from(nativeLoginCounters)
        .where(eq(nativeLoginCounters.key, userKey(o.cluster, user)));
      const c: Counters = rows[0] === undefined ? emptyCounters() : { failures: rows[0].failures, pending: rows[0].pending, consecutive: rows[0].consecutive };
      prune(c, policy, now());
      return { failures: c.failures.length, inflight: Object.keys(c.pending).length, consecutive: c.consecutive };
    },
  };
}
