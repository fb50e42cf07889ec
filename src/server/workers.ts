// `cephgate serve --workers N`: one primary process and N worker processes (node:cluster). Each
// worker is a whole gateway (its own pools, caches, Ceph tokens and counters) listening on the shared
// public port; the primary hands out connections, starts a worker again when one dies, stops them
// all gracefully on SIGTERM/SIGINT, forwards SIGHUP, and serves the admin listener itself: /metrics
// adds the workers' metrics up (prom-client's AggregatorRegistry), /readyz asks every worker.

import cluster, { type Worker } from 'node:cluster';
import { createServer, type Server } from 'node:http';
import { AggregatorRegistry, type Registry } from 'prom-client';
import { describeError } from '../config/check-explain.ts';
import type { Config } from '../config/schema.ts';
import type { Logger } from '../core/logger.ts';
import type { Metrics } from '../core/metrics.ts';
import { closeGracefully, listen } from './listeners.ts';

/** Messages between the primary and a worker (all carry `cephgate`, so other IPC is ignored). */
type ToWorker = { cephgate: 'ask'; id: number; kind: 'readyz' | 'metrics' };
/** One worker's metrics as prom-client serialises them (Registry.getMetricsAsJSON). */
type MetricsJson = Awaited<ReturnType<Registry['getMetricsAsJSON']>>;
type ToPrimary = { cephgate: 'listening'; address: string } | { cephgate: 'answer'; id: number; status?: number; body?: unknown; metrics?: MetricsJson };

export interface PrimaryOptions {
  readonly count: number;
  readonly config: Config;
  readonly log: Logger;
  /** Runs once before the first worker starts (migrations: N workers must not race to apply them). */
  readonly prepare?: () => Promise<void>;
}

interface Slot {
  readonly index: number;
  worker: Worker | null;
  listening: boolean;
  /** When its workers died after starting, for the back-off of the next start. */
  deaths: number[];
}

/**
 * What a worker is told through the environment (config/check-source.ts applies CEPHGATE__ overrides):
 * the primary applied the migrations; only the first worker runs the periodic audit jobs (one chain
 * checkpoint per interval, not N); the admin listener is the primary's; log writes stay below the
 * size a pipe writes in one piece (PIPE_BUF, 4096), so lines of several workers never interleave.
 */
function workerEnv(slot: number, config: Config): Record<string, string> {
  const env: Record<string, string> = {
    CEPHGATE_WORKER_SLOT: String(slot),
    CEPHGATE__AUDIT__MIGRATE_ON_START: 'false',
    CEPHGATE__ADMIN__ENABLED: 'false',
    CEPHGATE__LOGGING__BUFFER_BYTES: String(Math.min(config.logging.buffer_bytes, 2048)),
  };
  if (slot > 0) Object.assign(env, { CEPHGATE__AUDIT__CHECKPOINT_INTERVAL_SECONDS: '0', CEPHGATE__AUDIT__PRUNE_INTERVAL_MINUTES: '0' });
  return env;
}

/** Back-off before starting a slot again: 0 for a first death, doubling per death in the last minute, at most 30 s. */
function restartDelayMs(deaths: readonly number[], now: number): number {
  const recent = deaths.filter((t) => now - t < 60_000).length;
  return recent <= 1 ? 0 : Math.min(30_000, 500 * 2 ** (recent - 1));
}

export async function runPrimary(o: PrimaryOptions): Promise<number> {
  const { log, config } = o;
  await o.prepare?.();
  const slots: Slot[] = Array.from({ length: o.count }, (_, index) => ({ index, worker: null, listening: false, deaths: [] }));
  let stopping = false;
  let started = false;
  let nextId = 1;
  const pending = new Map<number, (m: ToPrimary & { cephgate: 'answer' }) => void>();
  let finish: (code: number) => void = () => undefined;
  const done = new Promise<number>((resolve) => {
    finish = resolve;
  });

  const fork = (slot: Slot) => {
    if (stopping) return;
    const w = cluster.fork(workerEnv(slot.index, config));
    slot.worker = w;
    slot.listening = false;
    w.on('message', (m: ToPrimary) => {
      if (m?.cephgate === 'listening') {
        slot.listening = true;
        if (!started && slots.every((s) => s.listening)) {
          started = true;
          log.info({ workers: o.count, pids: slots.map((s) => s.worker?.process.pid) }, `cephgate is serving with ${o.count} workers`);
        }
      } else if (m?.cephgate === 'answer') pending.get(m.id)?.(m);
    });
  };

  cluster.on('exit', (w, code, signal) => {
    const slot = slots.find((s) => s.worker === w);
    if (slot === undefined) return;
    slot.worker = null;
    if (stopping) {
      if (slots.every((s) => s.worker === null)) void stopAdmin().then(() => finish(0));
      return;
    }
    if (!started) {
      // A worker that cannot start (a port in use, the database down) would fail again: stop, as `serve` alone would.
      log.error({ worker: slot.index, pid: w.process.pid, code, signal }, 'a worker could not start (its log says why); stopping');
      void stopAll('a worker could not start').then(() => finish(2));
      return;
    }
    const now = Date.now();
    slot.deaths.push(now);
    const delay = restartDelayMs(slot.deaths, now);
    log.warn({ worker: slot.index, pid: w.process.pid, code, signal, restart_in_ms: delay }, 'a worker died; starting another');
    setTimeout(() => fork(slot), delay).unref();
  });

  /** Asks every running worker; an answer not in within `timeoutMs` counts as none. */
  async function askAll(kind: ToWorker['kind'], timeoutMs = 5000): Promise<{ slot: number; answer: (ToPrimary & { cephgate: 'answer' }) | null }[]> {
    const running = slots.filter((s) => s.worker !== null && s.listening);
    return Promise.all(
      running.map(
        (s) =>
          new Promise<{ slot: number; answer: (ToPrimary & { cephgate: 'answer' }) | null }>((resolve) => {
            const id = nextId++;
            const timer = setTimeout(() => {
              pending.delete(id);
              resolve({ slot: s.index, answer: null });
            }, timeoutMs);
            pending.set(id, (m) => {
              clearTimeout(timer);
              pending.delete(id);
              resolve({ slot: s.index, answer: m });
            });
            s.worker?.send({ cephgate: 'ask', id, kind } satisfies ToWorker);
          }),
      ),
    );
  }

  const admin = config.admin.enabled ? primaryAdmin(askAll, o.count) : null;
  const stopAdmin = async () => {
    if (admin) await closeGracefully(admin, 1000);
  };
  if (admin) {
    try {
      await listen(admin, config.admin.listen.host, config.admin.listen.port);
    } catch (err) {
      log.error({ err }, `the admin listener cannot listen: ${describeError(err, { service: 'listener' })}`);
      return 2;
    }
  }

  async function stopAll(reason: string): Promise<void> {
    if (stopping) return;
    stopping = true;
    const alive = slots.filter((s) => s.worker !== null);
    log.info({ reason, workers: alive.length }, 'stopping the workers: each finishes its in-flight requests');
    for (const s of alive) s.worker?.process.kill('SIGTERM');
    // A worker that does not stop within its grace (plus closing its store) is cut.
    const kill = setTimeout(() => {
      for (const s of slots) s.worker?.process.kill('SIGKILL');
    }, config.server.shutdown_grace_ms + 15_000);
    kill.unref();
    if (alive.length === 0) await stopAdmin();
  }

  process.on('SIGHUP', () => {
    log.info({ signal: 'SIGHUP' }, 'reloading policies in every worker');
    for (const s of slots) s.worker?.process.kill('SIGHUP');
  });
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      void stopAll(signal).then(() => {
        if (slots.every((s) => s.worker === null)) finish(0);
      });
    });
  }
  for (const s of slots) fork(s);
  const code = await done;
  log.info({ code }, 'stopped');
  return code;
}

/** The primary's admin listener: liveness of the primary, readiness and metrics of every worker. */
function primaryAdmin(
  askAll: (kind: ToWorker['kind']) => Promise<{ slot: number; answer: (ToPrimary & { cephgate: 'answer' }) | null }[]>,
  count: number,
): Server {
  return createServer((req, res) => {
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/healthz') return json(200, { status: 'ok', workers: count });
    if (path === '/readyz') {
      void askAll('readyz').then((answers) => {
        const workers = answers.map(({ slot, answer }) => ({
          worker: slot,
          ...(answer?.body as object | undefined),
          status: answer?.body === undefined ? 'no answer' : (answer.body as { status?: string }).status,
        }));
        const ready = answers.length > 0 && answers.every((a) => a.answer?.status === 200);
        // The first worker's view at the top (the shape of a single process's /readyz), every worker's below.
        const first = (answers.find((a) => a.answer?.status !== 200) ?? answers[0])?.answer?.body as object | undefined;
        json(ready ? 200 : 503, {
          ...first,
          status: ready ? 'ready' : 'not_ready',
          workers_ready: answers.filter((a) => a.answer?.status === 200).length,
          workers,
        });
      });
      return;
    }
    if (path === '/metrics') {
      void askAll('metrics').then(async (answers) => {
        const registry = AggregatorRegistry.aggregate(answers.flatMap((a) => (a.answer?.metrics ? [a.answer.metrics] : [])));
        res.writeHead(200, { 'content-type': registry.contentType });
        res.end(await registry.metrics());
      });
      return;
    }
    json(404, { status: '404 Not Found', detail: 'not found', request_id: 'none', code: 'not_found' });
  });
}

/** What a worker's gateway offers the primary: its admin app (readiness) and its metrics. */
export interface WorkerSide {
  readonly admin: { request(path: string): Response | Promise<Response> };
  readonly metrics: Metrics;
}

/** In a worker: answers the primary's questions, tells it once listening, and stops when the primary is gone. */
export function serveAsWorker(gw: WorkerSide, address: string, stop: (reason: string) => void): void {
  const send = (m: ToPrimary) => process.send?.(m);
  process.on('message', (m: ToWorker) => {
    if (m?.cephgate !== 'ask') return;
    const answer = async (): Promise<ToPrimary> => {
      const readyz = m.kind === 'readyz';
      // /metrics first: it refreshes the gauges read from elsewhere (sessions, spool) before the scrape.
      const res = await gw.admin.request(readyz ? '/readyz' : '/metrics');
      if (readyz) return { cephgate: 'answer', id: m.id, status: res.status, body: await res.json() };
      return { cephgate: 'answer', id: m.id, metrics: await gw.metrics.registry.getMetricsAsJSON() };
    };
    void answer().then(send, () => send({ cephgate: 'answer', id: m.id }));
  });
  process.once('disconnect', () => stop('the primary process is gone'));
  send({ cephgate: 'listening', address });
}
