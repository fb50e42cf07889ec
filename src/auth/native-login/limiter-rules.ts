// The brute-force rules of Ceph-native logins, as pure functions on one user's and one client's counters
// (limiter.ts keeps the counters in the database, shared by every gateway instance). Nothing the gateway
// forwards may lock a Ceph account, which Ceph disables after 10 failed logins in a row
// (docs/ceph-facts.md "Login and tokens").

export interface LimiterPolicy {
  readonly maxFailuresPerUser: number;
  readonly maxFailuresPerClient: number;
  readonly windowMs: number;
  readonly maxConsecutiveFailures: number;
}

/** One key's counters, as stored (db/schema.ts `native_login_counters`). */
export interface Counters {
  /** Times (ms) of failures; those older than the window are pruned. */
  failures: number[];
  /** Attempts in flight, by reservation id: counted as failures until settled, so a burst of concurrent
   *  wrong passwords (on any instance) cannot slip past a limit before the first answer arrives. */
  pending: Record<string, number>;
  consecutive: number;
}

export type Refusal = { readonly reason: 'user' | 'client' | 'consecutive'; readonly retryAfterS: number };

/**
 * A reservation older than this is dropped: its instance died between asking Ceph and settling. Far longer
 * than a login can take (the upstream's header timeout), so a live attempt is never forgotten.
 */
export const STALE_PENDING_MS = 5 * 60_000;

export const emptyCounters = (): Counters => ({ failures: [], pending: {}, consecutive: 0 });

/** Drops failures out of the window and stale reservations (mutates `c`). */
export function prune(c: Counters, policy: LimiterPolicy, t: number): void {
  c.failures = c.failures.filter((f) => f > t - policy.windowMs);
  for (const [id, at] of Object.entries(c.pending)) if (at <= t - STALE_PENDING_MS) delete c.pending[id];
}

const inflight = (c: Counters): number => Object.keys(c.pending).length;

function retryAfter(c: Counters, policy: LimiterPolicy, t: number): number {
  const oldest = c.failures[0];
  return oldest === undefined ? 1 : Math.max(1, Math.ceil((oldest + policy.windowMs - t) / 1000));
}

/** Whether one more attempt may reach Ceph (counters already pruned), else why not. */
export function judge(user: Counters, client: Counters, policy: LimiterPolicy, t: number): Refusal | null {
  // Never decays: only a success resets Ceph's counter, so only a success resets ours.
  if (user.consecutive + inflight(user) >= policy.maxConsecutiveFailures) return { reason: 'consecutive', retryAfterS: Math.ceil(policy.windowMs / 1000) };
  if (user.failures.length + inflight(user) >= policy.maxFailuresPerUser) return { reason: 'user', retryAfterS: retryAfter(user, policy, t) };
  if (client.failures.length + inflight(client) >= policy.maxFailuresPerClient) return { reason: 'client', retryAfterS: retryAfter(client, policy, t) };
  return null;
}

export type Verdict = 'succeeded' | 'failed' | 'abandoned';

/** Settles reservation `id` on both counters (mutates them). */
export function settle(user: Counters, client: Counters, id: string, verdict: Verdict, t: number): void {
  delete user.pending[id];
  delete client.pending[id];
  if (verdict === 'succeeded') {
    // Ceph accepted the password: its consecutive count is reset, and so is ours.
    user.consecutive = 0;
    user.failures = [];
  } else if (verdict === 'failed') {
    user.failures.push(t);
    client.failures.push(t);
    user.consecutive++;
  }
}

/** True when a row holds nothing worth keeping (deleted, so abandoned keys do not pile up). */
export const isEmpty = (c: Counters): boolean => c.failures.length === 0 && inflight(c) === 0 && c.consecutive === 0;
