// Starting and loading the measured servers: B0 (the stub itself), B1 (undici proxy), B2 (nginx), B3 (Apache
// httpd + mod_auth_openidc), G (cephgate in one of its audit variants). The load generator always runs as its
// own process (bench/load.ts).

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEV_AUDIENCE } from '../scripts/dev-idp/provider.ts';
import { checkAuthentication, type ProbeTokens } from './auth-probes.ts';
import { APACHE_MISSING, startApache } from './baselines/apache.ts';
import { NGINX, startNginx } from './baselines/nginx.ts';
import type { LoadJob, LoadResult, Req, SeqResult } from './load.ts';
import { BENCH_DIR, type Child, cpuTicks, rssMb, startCompiledChild, startTsChild } from './proc.ts';

export type TargetKind = 'B0' | 'B1' | 'B2' | 'B3' | 'G' | 'G-noaudit' | 'G-pglite' | 'G-pg';

/** alice's group: what G's policy (policies/team-a.yaml) allows to read, so B3 requires the same. */
const B3_GROUP = 'team-a';

export interface BenchContext {
  readonly stub: Child;
  readonly stubToken: string;
  readonly issuer: string;
  readonly tokens: { readonly alice: string; readonly bob: string };
  /** Tokens an authenticating baseline must refuse (checked before its row is measured). */
  readonly probes: ProbeTokens;
  readonly pgUrl: string | null;
  readonly rules: number;
  readonly shape: string;
  /** Extra node flags for G (e.g. --cpu-prof). */
  readonly gatewayNodeArgs: readonly string[];
  /** G runs from JavaScript compiled here by tsc (`--compiled`) instead of under tsx. */
  readonly compiledDir: string | null;
  /** Which stages of G were real, as G reported them. */
  stages: Record<string, string> | null;
}

/** CPUs the load generator is pinned to (`--pin-load`, taskset's list syntax), or null: it floats like every other process. */
let loadCpus: string | null = null;
export function pinLoadGenerator(cpus: string | null): void {
  loadCpus = cpus;
}

/** Starts bench/load.ts, under `taskset` when pinned (taskset execs it: same pid, same IPC channel). */
function spawnLoad(arg: string): ReturnType<typeof spawn> {
  const argv = ['--import', 'tsx', join(BENCH_DIR, 'load.ts'), arg];
  const opts = { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] as ('ignore' | 'inherit' | 'ipc')[] };
  return loadCpus === null ? spawn(process.execPath, argv, opts) : spawn('taskset', ['-c', loadCpus, process.execPath, ...argv], opts);
}

export interface Running {
  readonly child: Child;
  readonly url: string;
  /** B0 is the shared stub: not stopped after its row. */
  readonly shared: boolean;
  /** Said in the row's note (B3: the authentication checks it passed). */
  readonly note?: string;
}

/** Why a target cannot run on this machine (a baseline's server not installed), or null. */
export function unavailable(kind: TargetKind): string | null {
  if (kind === 'B2' && NGINX === null) return 'nginx not installed';
  if (kind === 'B3') return APACHE_MISSING;
  return null;
}

/** `connections`: the row's concurrent client connections (B3 sizes its thread pool to them). */
export async function startTarget(ctx: BenchContext, kind: TargetKind, connections = 50): Promise<Running> {
  const stubUrl = `http://127.0.0.1:${ctx.stub.info.port}`;
  const urlOf = (c: Child) => `http://127.0.0.1:${c.info.port}`;
  switch (kind) {
    case 'B0':
      return { child: ctx.stub, url: stubUrl, shared: true };
    case 'B1': {
      const c = await startTsChild('baselines/undici-proxy.ts', [stubUrl]);
      return { child: c, url: urlOf(c), shared: false };
    }
    case 'B2': {
      const c = await startNginx(Number(ctx.stub.info.port));
      return { child: c, url: urlOf(c), shared: false };
    }
    case 'B3': {
      const c = await startApache({
        upstreamPort: Number(ctx.stub.info.port),
        upstreamToken: ctx.stubToken,
        issuer: ctx.issuer,
        audience: DEV_AUDIENCE,
        group: B3_GROUP,
        connections,
      });
      try {
        // Its numbers only count if it refuses what G refuses (and the refusals are not measured).
        const note = await checkAuthentication(urlOf(c), { valid: ctx.tokens.alice, wrongGroup: ctx.tokens.bob }, ctx.probes);
        return { child: c, url: urlOf(c), shared: false, note };
      } catch (err) {
        await c.stop();
        throw err;
      }
    }
    default: {
      const audit = kind === 'G-noaudit' ? 'none' : kind === 'G-pg' ? 'pg' : 'pglite';
      if (audit === 'pg' && ctx.pgUrl === null) throw new Error('Postgres unavailable');
      const args = [
        '--upstream',
        stubUrl,
        '--issuer',
        ctx.issuer,
        '--audit',
        audit,
        '--rules',
        String(ctx.rules),
        '--shape',
        ctx.shape,
        ...(ctx.pgUrl ? ['--pg-url', ctx.pgUrl] : []),
      ];
      const opts = { nodeArgs: ctx.gatewayNodeArgs, timeoutMs: 120_000 };
      const c =
        ctx.compiledDir === null
          ? await startTsChild('gateway-child.ts', args, opts)
          : await startCompiledChild(ctx.compiledDir, 'gateway-child.ts', args, opts);
      ctx.stages ??= c.info.stages as Record<string, string>;
      return { child: c, url: urlOf(c), shared: false };
    }
  }
}

/**
 * The request a target gets: the pass-through baselines (B0-B2) carry the stub's Ceph token and version; G and
 * B3, which authenticate the client and put Ceph's token and version in themselves, get the same IdP token and plain JSON.
 */
export function requestFor(ctx: BenchContext, kind: TargetKind, method: string, path: string, opts: { who?: 'alice' | 'bob'; body?: string } = {}): Req {
  const baseline = kind === 'B0' || kind === 'B1' || kind === 'B2';
  const headers: Record<string, string> = baseline
    ? { authorization: `Bearer ${ctx.stubToken}`, accept: 'application/vnd.ceph.api.v1.0+json' }
    : { authorization: `Bearer ${ctx.tokens[opts.who ?? 'alice']}`, accept: 'application/json' };
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  return { method, path, headers, ...(opts.body === undefined ? {} : { body: opts.body }) };
}

export interface Measured extends LoadResult {
  readonly warmupStatusCodes: Record<string, number>;
  readonly rssStartMb: number;
  readonly rssEndMb: number;
  readonly rssMaxMb: number;
  /** The server's CPU time (user + system) per request answered while measuring, in µs: what the gateway costs, whatever else shares the cores. */
  readonly cpuUsPerRequest: number | null;
}

/**
 * Runs bench/load.ts against a server, sampling the server's RSS once a second while it measures. With
 * `profileTo`, the server (which must call bench/profile-hook.ts) is CPU-profiled over the measured window only.
 */
export function measure(server: Running, job: LoadJob, opts: { profileTo?: string } = {}): Promise<Measured> {
  return new Promise((resolve, reject) => {
    const proc = spawnLoad(JSON.stringify(job));
    let rssStart = 0;
    let rssMax = 0;
    let ticksStart = 0;
    let profiling: Promise<unknown> | null = null;
    let resulted = false;
    let sampler: NodeJS.Timeout | null = null;
    proc.on(
      'message',
      (m: { phase?: string; warmupStatusCodes?: Record<string, number>; result?: LoadResult & { warmupStatusCodes?: Record<string, number> } }) => {
        if (m.phase === 'measure') {
          if (opts.profileTo !== undefined) profiling = server.child.ask({ cmd: 'profile-start' });
          rssStart = rssMb(server.child.pid, server.child.tree);
          ticksStart = cpuTicks(server.child.pid, server.child.tree);
          rssMax = rssStart;
          sampler = setInterval(() => (rssMax = Math.max(rssMax, rssMb(server.child.pid, server.child.tree))), 1000);
        }
        if (m.result) {
          resulted = true;
          if (sampler) clearInterval(sampler);
          const end = rssMb(server.child.pid, server.child.tree);
          const ticks = cpuTicks(server.child.pid, server.child.tree) - ticksStart;
          const { warmupStatusCodes = {}, ...r } = m.result;
          // 1 tick = 10 ms (Linux's USER_HZ): over a 10 s row of thousands of requests, a precision of a few per cent.
          const cpuUsPerRequest = r.total > 0 ? Math.round((ticks * 10_000) / r.total) : null;
          const measured = { ...r, warmupStatusCodes, rssStartMb: rssStart, rssEndMb: end, rssMaxMb: Math.max(rssMax, end), cpuUsPerRequest };
          if (profiling === null || opts.profileTo === undefined) resolve(measured);
          else {
            const file = opts.profileTo;
            profiling.then(() => server.child.ask({ cmd: 'profile-stop', file }, 120_000)).then(() => resolve(measured), reject);
          }
        }
      },
    );
    proc.once('exit', (code) => {
      if (sampler) clearInterval(sampler);
      // After its result the generator may exit while the server's profile is still being written.
      if (!resulted) reject(new Error(`load generator exited (${code}) without a result`));
    });
  });
}

export function measureSeq(job: Extract<LoadJob, { kind: 'seq' }>): Promise<SeqResult> {
  const dir = mkdtempSync(join(tmpdir(), 'cephgate-bench-job-'));
  const file = join(dir, 'job.json');
  writeFileSync(file, JSON.stringify(job));
  return new Promise<SeqResult>((resolve, reject) => {
    const proc = spawnLoad(`@${file}`);
    proc.on('message', (m: { result?: SeqResult }) => m.result && resolve(m.result));
    proc.once('exit', (code) => reject(new Error(`load generator exited (${code}) without a result`)));
  }).finally(() => rmSync(dir, { recursive: true, force: true }));
}

export async function stopTarget(t: Running): Promise<void> {
  if (!t.shared) await t.child.stop();
}
