// The global budget of one cluster, protecting its active mgr (a dashboard serves ~600-900 requests/s):
// never more than N requests/s through the gateway. A request over budget waits briefly for the next
// slot (queue_ms, at most max_queue waiting per instance), then is refused.
//
// The second is cut into 100 ms windows of N/10 each (at least 1), so a burst cannot spend a whole second's
// budget at once and any one-second interval sees at most 1.1 N (11 windows it touches).

import type { RateLimiterRes } from 'rate-limiter-flexible';
import type { ClusterBudget } from '../config/rate-limits.ts';
import type { CounterStore } from './stores.ts';

export const BUDGET_SLICE_MS = 100;

export type Acquired =
  | { readonly ok: true; readonly res: RateLimiterRes }
  | { readonly ok: false; readonly res: RateLimiterRes | null; readonly queueFull: boolean };

export interface ClusterGate {
  readonly budget: ClusterBudget;
  readonly perSlice: number;
  /** Takes a slot, waiting up to queue_ms for one. */
  acquire(): Promise<Acquired>;
  /** Requests waiting now on this instance. */
  readonly waiting: number;
}

const isRes = (x: unknown): x is RateLimiterRes => typeof x === 'object' && x !== null && 'msBeforeNext' in x;

export function createClusterGate(
  budget: ClusterBudget,
  store: CounterStore,
  sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms)),
): ClusterGate {
  const perSlice = Math.max(1, Math.floor(budget.requests_per_second / (1000 / BUDGET_SLICE_MS)));
  const counter = store.counter(`cluster-${budget.cluster}`, perSlice, BUDGET_SLICE_MS);
  let waiting = 0;
  return {
    budget,
    perSlice: counter.points,
    get waiting() {
      return waiting;
    },
    async acquire() {
      const deadline = Date.now() + budget.queue_ms;
      for (;;) {
        try {
          return { ok: true, res: await counter.consume('all') };
        } catch (rej) {
          // An Error is a store failure the insurance limiter could not absorb: not the caller's fault.
          if (!isRes(rej)) throw rej;
          const wait = Math.max(1, rej.msBeforeNext);
          if (Date.now() + wait > deadline) return { ok: false, res: rej, queueFull: false };
          if (waiting >= budget.max_queue) return { ok: false, res: rej, queueFull: true };
          waiting++;
          try {
            // A few ms of spread, so the waiters of one window do not all retry at the same instant.
            await sleep(wait + Math.floor(Math.random() * 5));
          } finally {
            waiting--;
          }
        }
      }
    },
  };
}
