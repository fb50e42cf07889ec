// Rate limits as one call the pipeline makes after authentication and before the audit intent:
// `check(principal, route, method)` spends the request's counters (limits/match.ts) and the cluster's global
// budget (limits/cluster-budget.ts) and answers ok, or limited with what the 429/503 needs, plus the
// RateLimit-Policy / RateLimit header values (limits/headers.ts) for either answer.

import type { RateLimiterRes } from 'rate-limiter-flexible';
import type { RateLimitsConfig } from '../config/rate-limits.ts';
import type { RouteMatch } from '../core/catalogue.ts';
import type { Logger } from '../core/logger.ts';
import type { Principal } from '../core/principal.ts';
import type { Db } from '../db/database.ts';
import { type ClusterGate, createClusterGate } from './cluster-budget.ts';
import { type PolicyState, type RateLimitHeaderValues, rateLimitHeaders } from './headers.ts';
import { type RequestKind, spendsOf } from './match.ts';
import { type Counter, type CounterStore, databaseStore, memoryStore, sweepExpired } from './stores.ts';

/** Why a request was refused: enough for the 429/503, its Retry-After and the audit record. */
export interface Limited {
  /** 429 (a caller's budget) or the cluster budget's configured status (503 by default). */
  readonly status: 429 | 503;
  /** The policy that refused it (a rule name, or `cluster-<name>` for a cluster budget). */
  readonly policy: string;
  readonly retryAfterSeconds: number;
  /** The policy's quota per window. */
  readonly limit: number;
  readonly remaining: number;
  /** Seconds until the policy's window resets. */
  readonly reset: number;
}

export type RateLimitResult =
  | { readonly ok: true; readonly headers: RateLimitHeaderValues | null }
  | { readonly ok: false; readonly limited: Limited; readonly headers: RateLimitHeaderValues | null };

export interface RateLimits {
  readonly enabled: boolean;
  check(principal: Principal, route: RouteMatch, method: string): Promise<RateLimitResult>;
  /** Stops the sweep of expired counters. */
  close(): void;
}

export interface RateLimitsDeps {
  readonly config: RateLimitsConfig;
  /** The gateway database (store `database`). */
  readonly db: Db;
  /** Configured cluster names: a budget or rule naming another one is a start-up error. */
  readonly clusters: readonly string[];
  readonly log: Logger;
  /** Called for each refusal (metrics). */
  readonly onLimited?: (l: Limited, kind: RequestKind, cluster: string) => void;
  /** For tests: another counter store for everything. */
  readonly store?: CounterStore;
}

const OK: RateLimitResult = { ok: true, headers: null };
const seconds = (ms: number): number => Math.max(0, Math.ceil(ms / 1000));
const isRes = (x: unknown): x is RateLimiterRes => typeof x === 'object' && x !== null && 'msBeforeNext' in x;

export function createRateLimits(d: RateLimitsDeps): RateLimits {
  const cfg = d.config;
  if (!cfg.enabled) return { enabled: false, check: async () => OK, close: () => {} };
  for (const name of [...cfg.clusters.map((c) => c.cluster), ...cfg.rules.flatMap((r) => r.clusters)]) {
    if (!d.clusters.includes(name)) throw new Error(`rate_limits: no cluster named ${name}`);
  }
  const memory = memoryStore(cfg.instances);
  let database: CounterStore | null = null;
  let sweep: NodeJS.Timeout | null = null;
  const storeOf = (kind: 'database' | 'memory' | undefined): CounterStore => {
    if (d.store !== undefined) return d.store;
    if ((kind ?? cfg.store) === 'memory') return memory;
    if (database === null) {
      database = databaseStore(d.db, cfg.instances);
      sweep = setInterval(() => sweepExpired(d.db, new Date()).catch((err: unknown) => d.log.warn({ err }, 'rate-limit counter sweep failed')), 300_000);
      sweep.unref();
    }
    return database;
  };
  const counters = new Map<string, Counter>();
  for (const r of cfg.rules) {
    const store = storeOf(r.store);
    if (r.reads) counters.set(`${r.name}/read`, store.counter(`rl-${r.name}-read`, r.reads.requests, r.reads.window_seconds * 1000));
    if (r.mutations) counters.set(`${r.name}/mutation`, store.counter(`rl-${r.name}-mutation`, r.mutations.requests, r.mutations.window_seconds * 1000));
  }
  const gates = new Map<string, ClusterGate>(cfg.clusters.map((b) => [b.cluster, createClusterGate(b, storeOf(b.store))]));

  async function check(principal: Principal, route: RouteMatch, method: string): Promise<RateLimitResult> {
    const spends = spendsOf(cfg.rules, principal, route, method);
    const states = new Map<string, PolicyState>();
    let refusal: Limited | null = null;
    const outcomes = await Promise.all(
      spends.map(async (s) => {
        const counter = counters.get(`${s.rule.name}/${s.kind}`) as Counter;
        try {
          return { s, counter, res: await counter.consume(s.key), over: false };
        } catch (err) {
          if (isRes(err)) return { s, counter, res: err, over: true };
          // The store and its insurance both failed: the request is not refused for that (logged).
          d.log.warn({ err, policy: s.rule.name }, 'rate-limit counter unavailable; request not limited');
          return null;
        }
      }),
    );
    for (const o of outcomes) {
      if (o === null) continue;
      const remaining = o.over ? 0 : o.res.remainingPoints;
      const state: PolicyState = {
        name: o.s.rule.name,
        quota: o.counter.points,
        windowSeconds: seconds(o.counter.windowMs),
        remaining,
        resetSeconds: seconds(o.res.msBeforeNext),
      };
      // Per policy, the partition closest to its limit speaks for it.
      const prev = states.get(state.name);
      if (prev === undefined || state.remaining < prev.remaining) states.set(state.name, state);
      if (o.over) {
        const retry = Math.max(1, seconds(o.res.msBeforeNext));
        if (refusal === null || retry > refusal.retryAfterSeconds)
          refusal = { status: 429, policy: state.name, retryAfterSeconds: retry, limit: state.quota, remaining: 0, reset: retry };
      }
    }
    const gate = refusal === null ? gates.get(route.cluster) : undefined;
    if (gate !== undefined) refusal = await passGate(gate, states);
    const headers = refusal !== null || cfg.headers ? rateLimitHeaders([...states.values()]) : null;
    if (refusal === null) return { ok: true, headers };
    d.onLimited?.(refusal, spends[0]?.kind ?? (method === 'GET' || method === 'HEAD' ? 'read' : 'mutation'), route.cluster);
    return { ok: false, limited: refusal, headers };
  }

  /** The cluster's budget: null when a slot was had (or the store failed: not the caller's fault), else the refusal. */
  async function passGate(gate: ClusterGate, states: Map<string, PolicyState>): Promise<Limited | null> {
    let got: Awaited<ReturnType<ClusterGate['acquire']>>;
    try {
      got = await gate.acquire();
    } catch (err) {
      d.log.warn({ err, cluster: gate.budget.cluster }, 'cluster budget counter unavailable; request not limited');
      return null;
    }
    if (got.ok) return null;
    const name = `cluster-${gate.budget.cluster}`;
    const retry = Math.max(1, seconds(got.res?.msBeforeNext ?? 1000));
    states.set(name, { name, quota: gate.budget.requests_per_second, windowSeconds: 1, remaining: 0, resetSeconds: retry });
    return { status: gate.budget.status, policy: name, retryAfterSeconds: retry, limit: gate.budget.requests_per_second, remaining: 0, reset: retry };
  }

  return {
    enabled: true,
    check,
    close: () => {
      if (sweep !== null) clearInterval(sweep);
    },
  };
}
