// Brute-force guard for Ceph-native logins: nothing the gateway forwards may lock a Ceph account, which
// Ceph disables after 10 failed logins in a row (docs/ceph-facts.md "Login and tokens"). Pure bookkeeping, no I/O.
//
// Attempts in flight count as failures until they are settled, so a burst of concurrent wrong passwords
// cannot slip past the limit before the first answer arrives.

export interface LimiterPolicy {
  readonly maxFailuresPerUser: number;
  readonly maxFailuresPerClient: number;
  readonly windowMs: number;
  readonly maxConsecutiveFailures: number;
}

export type Admission =
  | { readonly ok: true; readonly attempt: Attempt }
  | { readonly ok: false; readonly reason: 'user' | 'client' | 'consecutive'; readonly retryAfterS: number };

export interface Attempt {
  /** Ceph accepted the password: the user's consecutive count is reset (as Ceph resets its own). */
  succeeded(): void;
  /** Ceph refused the password (400 invalid_credentials): counts towards every limit. */
  failed(): void;
  /** No verdict (Ceph unreachable, 5xx): releases the reservation without counting. */
  abandoned(): void;
}

interface Counter {
  failures: number[]; // timestamps (ms) within the window
  inflight: number;
  consecutive: number;
}

export interface LoginLimiter {
  admit(userKey: string, clientKey: string): Admission;
  /** Forget a user's consecutive failures (an administrator re-enabled or reset the account in Ceph). */
  reset(userKey: string): void;
  /** Current figures, for tests and diagnostics. */
  peek(userKey: string): { failures: number; inflight: number; consecutive: number };
}

const SWEEP_ABOVE = 10_000;

export function createLoginLimiter(policy: LimiterPolicy, now: () => number = Date.now): LoginLimiter {
  const users = new Map<string, Counter>();
  const clients = new Map<string, Counter>();

  const counter = (m: Map<string, Counter>, key: string): Counter => {
    let c = m.get(key);
    if (c === undefined) {
      c = { failures: [], inflight: 0, consecutive: 0 };
      m.set(key, c);
    }
    return c;
  };
  const prune = (c: Counter, t: number) => {
    while (c.failures.length > 0 && (c.failures[0] as number) <= t - policy.windowMs) c.failures.shift();
  };
  const retryAfter = (c: Counter, t: number): number => {
    const oldest = c.failures[0];
    return oldest === undefined ? 1 : Math.max(1, Math.ceil((oldest + policy.windowMs - t) / 1000));
  };
  const gc = (m: Map<string, Counter>, key: string, c: Counter) => {
    if (c.failures.length === 0 && c.inflight === 0 && c.consecutive === 0) m.delete(key);
  };

  return {
    admit(userKey, clientKey) {
      const t = now();
      // Keys of clients and users that stopped trying would pile up: sweep the stale ones now and then.
      if (users.size + clients.size > SWEEP_ABOVE) {
        for (const m of [users, clients]) {
          for (const [k, c] of m) {
            prune(c, t);
            gc(m, k, c);
          }
        }
      }
      const u = counter(users, userKey);
      const cl = counter(clients, clientKey);
      prune(u, t);
      prune(cl, t);
      // Never decays: only a success resets Ceph's counter, so only a success resets ours.
      if (u.consecutive + u.inflight >= policy.maxConsecutiveFailures)
        return { ok: false, reason: 'consecutive', retryAfterS: Math.ceil(policy.windowMs / 1000) };
      if (u.failures.length + u.inflight >= policy.maxFailuresPerUser) return { ok: false, reason: 'user', retryAfterS: retryAfter(u, t) };
      if (cl.failures.length + cl.inflight >= policy.maxFailuresPerClient) return { ok: false, reason: 'client', retryAfterS: retryAfter(cl, t) };
      u.inflight++;
      cl.inflight++;
      let settled = false;
      const settle = (f: () => void) => {
        if (settled) return;
        settled = true;
        u.inflight--;
        cl.inflight--;
        f();
        gc(users, userKey, u);
        gc(clients, clientKey, cl);
      };
      return {
        ok: true,
        attempt: {
          succeeded: () =>
            settle(() => {
              u.consecutive = 0;
              u.failures = [];
            }),
          failed: () =>
            settle(() => {
              const at = now();
              u.failures.push(at);
              cl.failures.push(at);
              u.consecutive++;
            }),
          abandoned: () => settle(() => {}),
        },
      };
    },
    reset(userKey) {
      const u = users.get(userKey);
      if (u === undefined) return;
      u.consecutive = 0;
      u.failures = [];
      gc(users, userKey, u);
    },
    peek(userKey) {
      const u = users.get(userKey);
      if (u === undefined) return { failures: 0, inflight: 0, consecutive: 0 };
      prune(u, now());
      return { failures: u.failures.length, inflight: u.inflight, consecutive: u.consecutive };
    },
  };
}
