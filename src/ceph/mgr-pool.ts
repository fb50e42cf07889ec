// Finds and follows the active mgr of one cluster among its dashboard URLs. Only the active mgr serves the
// dashboard; standbys answer a redirect to it or an error status (docs/ceph-facts.md "Several mgr daemons").
// When none is found it says why, for every dashboard: in a warning when that changes, as the cause of
// the 503 a request gets, and to /readyz.

import { describeError } from '../config/check-explain.ts';
import { GatewayError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';

/** What one unauthenticated probe of a dashboard URL saw. `error`: no HTTP answer at all. */
export type ProbeResult = { readonly status: number; readonly location: string | null } | { readonly error: unknown };

/** GET <origin>/api/health/minimal without credentials, redirects not followed. */
export type Probe = (origin: string, signal: AbortSignal) => Promise<ProbeResult>;

export interface MgrPoolOptions {
  readonly cluster: string;
  readonly urls: readonly string[];
  readonly probe: Probe;
  readonly log: Logger;
  readonly now?: () => number;
  /** Background health check period; 0 disables it (tests). */
  readonly healthIntervalMs?: number;
  /** How long a request waits for an active mgr before it gets 503. */
  readonly failoverWaitMs?: number;
  readonly probeTimeoutMs?: number;
}

export interface MgrPool {
  /** Origin of the active mgr; waits (bounded) during a fail-over, then throws 503 ceph_unavailable. */
  active(signal?: AbortSignal): Promise<string>;
  /** The request to `origin` could not reach it, or it answered as a standby: find the active mgr again. */
  markDown(origin: string, reason: string): void;
  /** The last known active origin, or null (for /readyz; does no I/O). */
  current(): string | null;
  /** Probes now; true when an active mgr answers, else rejects with why none does (each dashboard's answer or error). */
  ping(): Promise<boolean>;
  /** Why no active mgr was found by the last discovery, or null when one was. */
  problem(): string | null;
  close(): void;
}

const originOf = (url: string): string => new URL(url).origin;
const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        resolve();
      },
      { once: true },
    );
  });

/**
 * Only the active mgr answers 401 to an anonymous `GET /api/health/minimal`. Standbys redirect (default
 * behaviour), answer an error status (`standby_behaviour error`), or 200 with an HTML "no active mgr"
 * page while no mgr is active (seen during fail-overs).
 */
export const isActiveAnswer = (status: number): boolean => status === 401;

export function createMgrPool(o: MgrPoolOptions): MgrPool {
  const origins = [...new Set(o.urls.map(originOf))];
  const now = o.now ?? Date.now;
  const failoverWaitMs = o.failoverWaitMs ?? 5000;
  const probeTimeoutMs = o.probeTimeoutMs ?? 2000;
  let activeOrigin: string | null = null;
  let lostAt: number | null = null;
  let discovery: Promise<string | null> | null = null;
  let closed = false;
  /** Why the last discovery found no active mgr; what was last logged, and when (a changed reason is logged at once, the same one every minute). */
  let problem: string | null = null;
  let logged: { text: string; at: number } | null = null;

  const probe = async (origin: string): Promise<ProbeResult> => {
    const ctl = new AbortController();
    const t = setTimeout(() => ctl.abort(), probeTimeoutMs);
    try {
      return await o.probe(origin, ctl.signal);
    } catch (error) {
      if (ctl.signal.aborted)
        return { error: new Error(`no answer within ${probeTimeoutMs} ms (ceph.clusters[].failover.probe_timeout_ms)`, { cause: error }) };
      return { error };
    } finally {
      clearTimeout(t);
    }
  };

  /** One dashboard's answer, as a person reads it. */
  const seen = (origin: string, r: ProbeResult): string => {
    if (!('status' in r)) return `${origin}: ${describeError(r.error, { service: 'ceph', endpoint: origin })}`;
    return `${origin}: answered ${r.status}${r.location === null ? '' : ` redirecting to ${r.location}`} (not the active mgr)`;
  };

  function noActive(results: readonly { origin: string; r: ProbeResult }[]): void {
    problem = `no active Ceph mgr among ${origins.length} dashboard(s) of cluster ${o.cluster}: ${results.map(({ origin, r }) => seen(origin, r)).join('; ')}`;
    const t = now();
    if (logged !== null && logged.text === problem && t - logged.at < 60_000) return;
    logged = { text: problem, at: t };
    o.log.warn({ cluster: o.cluster, problem }, problem);
  }

  /** Probes every URL at once; a standby's redirect is believed only when it names a configured mgr. */
  async function discoverOnce(): Promise<string | null> {
    const results = await Promise.all(origins.map(async (origin) => ({ origin, r: await probe(origin) })));
    const found = await activeAmong(results);
    if (found === null) noActive(results);
    return found;
  }

  async function activeAmong(results: readonly { origin: string; r: ProbeResult }[]): Promise<string | null> {
    const active = results.find(({ r }) => 'status' in r && isActiveAnswer(r.status));
    if (active !== undefined) return active.origin;
    for (const { r } of results) {
      if (!('status' in r) || r.location === null) continue;
      let target: string | null = null;
      try {
        target = new URL(r.location).origin;
      } catch {
        target = null;
      }
      // Never follow a redirect to an origin not in the configuration: the next request would carry a token there.
      if (target !== null && origins.includes(target)) {
        const again = await probe(target);
        if ('status' in again && isActiveAnswer(again.status)) return target;
      }
    }
    return null;
  }

  function discover(): Promise<string | null> {
    discovery ??= discoverOnce()
      .then((found) => {
        if (found !== null && found !== activeOrigin) {
          const downMs = lostAt === null ? null : now() - lostAt;
          o.log.info({ cluster: o.cluster, active: found, previous: activeOrigin, downMs }, 'ceph active mgr found');
        }
        if (found !== null) {
          activeOrigin = found;
          lostAt = null;
          problem = null;
          logged = null;
        }
        return found;
      })
      .finally(() => {
        discovery = null;
      });
    return discovery;
  }

  async function active(signal?: AbortSignal): Promise<string> {
    if (activeOrigin !== null) return activeOrigin;
    const deadline = now() + failoverWaitMs;
    for (;;) {
      if (closed) break;
      const found = await discover();
      if (found !== null) return found;
      if (signal?.aborted === true || now() + 250 > deadline) break;
      await sleep(250, signal);
    }
    const retry = Math.max(1, Math.ceil(failoverWaitMs / 1000));
    throw new GatewayError(503, 'ceph_unavailable', `No active Ceph mgr answers for cluster ${o.cluster}.`, {
      headers: { 'Retry-After': String(retry) },
      extra: { retry_after: retry },
      // Logged (never sent): what each dashboard answered.
      cause: new Error(problem ?? `no active Ceph mgr found for cluster ${o.cluster}`),
    });
  }

  function markDown(origin: string, reason: string): void {
    if (activeOrigin !== originOf(origin)) return;
    o.log.warn({ cluster: o.cluster, mgr: activeOrigin, reason }, 'ceph active mgr lost');
    activeOrigin = null;
    lostAt = now();
    void discover();
  }

  async function healthCheck(): Promise<void> {
    if (activeOrigin === null) {
      await discover();
      return;
    }
    const seen = activeOrigin;
    const r = await probe(seen);
    if (!('status' in r)) markDown(seen, `health check: ${String((r.error as Error)?.message ?? r.error)}`);
    else if (!isActiveAnswer(r.status)) markDown(seen, `health check: answered ${r.status} (standby)`);
  }

  const timer = (o.healthIntervalMs ?? 5000) > 0 ? setInterval(() => void healthCheck().catch(() => {}), o.healthIntervalMs ?? 5000) : null;
  timer?.unref();

  return {
    active,
    markDown,
    current: () => activeOrigin,
    async ping() {
      if (activeOrigin !== null) {
        const r = await probe(activeOrigin);
        if ('status' in r && isActiveAnswer(r.status)) return true;
        markDown(activeOrigin, 'ping failed');
      }
      if ((await discover()) !== null) return true;
      throw new Error(problem ?? `no active Ceph mgr found for cluster ${o.cluster}`);
    },
    problem: () => problem,
    close() {
      closed = true;
      if (timer !== null) clearInterval(timer);
    },
  };
}
