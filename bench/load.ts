// The load generator, always its own process: autocannon with fixed connections and duration (or amount),
// after an unrecorded warm-up; an open-loop paced load (a fixed rate, evenly spaced) for latency at a
// given offered load; or sequential single requests for per-request latency (new vs cached token).
// Reads one JSON job from argv[2] (or @file); reports {phase} and the final {result} over IPC (or stdout).

import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { createHistogram } from 'node:perf_hooks';
import autocannon from 'autocannon';
import { Pool } from 'undici';

export interface Req {
  readonly method: string;
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body?: string;
}

export type LoadJob =
  | {
      readonly kind: 'load';
      readonly url: string;
      readonly connections: number;
      readonly duration: number;
      readonly amount?: number;
      readonly warmup: number;
      readonly requests: readonly Req[];
    }
  | {
      readonly kind: 'paced';
      readonly url: string;
      readonly connections: number;
      readonly duration: number;
      readonly rate: number;
      readonly warmup: number;
      readonly requests: readonly Req[];
    }
  | { readonly kind: 'seq'; readonly url: string; readonly sequences: readonly { readonly label: string; readonly requests: readonly Req[] }[] };

export interface LoadResult {
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  readonly total: number;
  readonly seconds: number;
  readonly statusCodes: Record<string, number>;
  readonly errors: number;
  readonly timeouts: number;
}

export interface SeqResult {
  readonly [label: string]: { readonly n: number; readonly p50: number; readonly p99: number; readonly statusCodes: Record<string, number> };
}

const say = (m: Record<string, unknown>) => (process.send ? process.send(m) : console.log(JSON.stringify(m)));

function cannon(job: Extract<LoadJob, { kind: 'load' }>, seconds: number, amount?: number): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    autocannon(
      {
        url: job.url,
        connections: job.connections,
        pipelining: 1,
        ...(amount === undefined ? { duration: seconds } : { amount }),
        requests: job.requests.map((r) => ({ method: r.method as 'GET', path: r.path, headers: r.headers, ...(r.body === undefined ? {} : { body: r.body }) })),
        timeout: 10,
      },
      (err, res) => (err ? reject(err) : resolve(res)),
    );
  });
}

async function load(job: Extract<LoadJob, { kind: 'load' }>): Promise<LoadResult & { warmupStatusCodes: Record<string, number> }> {
  const codes = (r: autocannon.Result) => {
    const out: Record<string, number> = {};
    for (const [code, s] of Object.entries(r.statusCodeStats ?? {})) out[code] = s.count;
    return out;
  };
  // Warm-up answers are reported too: audited runs compare every 2xx against the records written.
  const warmupStatusCodes = job.warmup > 0 ? codes(await cannon(job, job.warmup)) : {};
  say({ phase: 'measure' });
  const started = performance.now();
  const r = await cannon(job, job.duration, job.amount);
  const seconds = (performance.now() - started) / 1000;
  const statusCodes = codes(r);
  // Latency in ms; rps over the measured wall time (autocannon's per-second mean drops the partial last second).
  return {
    warmupStatusCodes,
    rps: Math.round(r.requests.total / seconds),
    p50: r.latency.p50,
    p99: r.latency.p99,
    total: r.requests.total,
    seconds,
    statusCodes,
    errors: r.errors,
    timeouts: r.timeouts,
  };
}

/**
 * Open loop: request i is sent at start + i/rate whatever the earlier ones do (autocannon's rate limit
 * sends each connection's share in a burst at the top of every second, which measures its own queue).
 * Latency counts from the send, including any wait for a free connection, so a stalled server shows.
 */
async function paced(job: Extract<LoadJob, { kind: 'paced' }>, seconds: number): Promise<LoadResult> {
  const pool = new Pool(job.url, { connections: job.connections, pipelining: 1 });
  const hist = createHistogram();
  const statusCodes: Record<string, number> = {};
  let errors = 0;
  const total = Math.round(seconds * job.rate);
  const inFlight: Promise<void>[] = [];
  const started = performance.now();
  for (let i = 0; i < total; i++) {
    const due = started + (i * 1000) / job.rate;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const r = job.requests[i % job.requests.length] as Req;
    const sent = performance.now();
    inFlight.push(
      pool.request({ method: r.method as 'GET', path: r.path, headers: r.headers, body: r.body ?? null }).then(
        async (res) => {
          await res.body.dump();
          statusCodes[res.statusCode] = (statusCodes[res.statusCode] ?? 0) + 1;
          hist.record(Math.max(1, Math.round((performance.now() - sent) * 1000))); // µs, queueing in the pool included
        },
        () => {
          errors++;
        },
      ),
    );
  }
  await Promise.all(inFlight);
  const elapsed = (performance.now() - started) / 1000;
  await pool.close();
  const ms = (us: number) => Math.round(us / 10) / 100;
  return {
    rps: Math.round(total / elapsed),
    p50: ms(hist.percentile(50)),
    p99: ms(hist.percentile(99)),
    total,
    seconds: elapsed,
    statusCodes,
    errors,
    timeouts: 0,
  };
}

async function pacedRun(job: Extract<LoadJob, { kind: 'paced' }>): Promise<LoadResult & { warmupStatusCodes: Record<string, number> }> {
  const warmupStatusCodes = job.warmup > 0 ? (await paced(job, job.warmup)).statusCodes : {};
  say({ phase: 'measure' });
  return { ...(await paced(job, job.duration)), warmupStatusCodes };
}

function once(url: URL, r: Req): Promise<[number, number]> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const req = request({ host: url.hostname, port: url.port, method: r.method, path: r.path, headers: r.headers }, (res) => {
      res.resume();
      res.on('end', () => resolve([res.statusCode ?? 0, performance.now() - started]));
    });
    req.on('error', reject);
    req.end(r.body);
  });
}

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? 0;

async function seq(job: Extract<LoadJob, { kind: 'seq' }>): Promise<SeqResult> {
  const url = new URL(job.url);
  const out: Record<string, SeqResult[string]> = {};
  for (const s of job.sequences) {
    const ms: number[] = [];
    const statusCodes: Record<string, number> = {};
    for (const r of s.requests) {
      const [status, t] = await once(url, r);
      ms.push(t);
      statusCodes[status] = (statusCodes[status] ?? 0) + 1;
    }
    ms.sort((a, b) => a - b);
    const round = (v: number) => Math.round(v * 1000) / 1000;
    out[s.label] = { n: ms.length, p50: round(pct(ms, 50)), p99: round(pct(ms, 99)), statusCodes };
  }
  return out;
}

// `@<file>`: a job too large for argv (hundreds of tokens exceed Linux's 128 KiB per-argument limit).
const arg = process.argv[2] ?? '{}';
const job = JSON.parse(arg.startsWith('@') ? readFileSync(arg.slice(1), 'utf8') : arg) as LoadJob;
const result = job.kind === 'seq' ? await seq(job) : job.kind === 'paced' ? await pacedRun(job) : await load(job);
say({ result });
process.disconnect?.();
