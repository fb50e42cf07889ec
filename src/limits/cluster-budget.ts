// The global budget of one cluster, protecting its active mgr (a dashboard serves ~600-900 requests/s):
// never more than N requests/s through the gateway. A request over budget waits briefly for the next
// slot (queue_ms, at most max_queue waiting per instance), then is refused.
//
// The second is cut into k equal windows of N/k each (k the largest divisor of N up to 10: 100 ms windows
// for most budgets), so a burst cannot spend a whole second's budget at once, the rate is exactly N, and
// any one-second interval sees at most N + N/k (the k + 1 windows it touches).

import type { RateLimiterRes } from 'rate-limiter-flexible';
import type { ClusterBudget } from '../config/rate-limits.ts';
import type { CounterStore } from './stores.ts';

/** Windows per second: the largest divisor of `rps` up to 10, so every window holds a whole number of requests. */
export function slicesPerSecond(rps: number): number {
  for (let k = Math.min(10, rps); k > 1; k--) if (rps % k === 0) return k;
  return 1;
}

export type Acquired =
  | { readonly ok: true; readonly res: RateLimiterRes }
  | { readonly ok: false; readonly res: RateLimiterRes | null; readonly queueFull: boolean };

export interface ClusterGate {
  readonly budget: ClusterBudget;
  /** Requests per window on this instance (its share with memory counters). */
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
  const k = slicesPerSecond(budget.requests_per_second);
  const counter = store.counter(`cluster-${budget.cluster}`, budget.requests_per_second / k, 1000 / k);
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
