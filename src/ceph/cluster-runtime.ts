// The live state of one configured cluster: its keep-alive dispatcher, active-mgr pool, learned versions,
// and the raw login exchange the token manager uses. Built once at start-up from ClusterConfig.

import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { ClusterConfig } from '../config/ceph.ts';
import { resolveSecret, secretRefOf } from '../config/secrets.ts';
import { GatewayError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { UpstreamResponse } from '../core/upstream.ts';
import type { ForwardOptions } from '../proxy/forward.ts';
import { createMgrPool, type MgrPool, type Probe } from './mgr-pool.ts';
import { isStandbyAnswer } from './request-prep.ts';
import type { TokenAccount } from './tokens.ts';
import { cephMediaType, VersionMemory } from './versions.ts';

export type ForwardFn = (o: ForwardOptions) => Promise<UpstreamResponse>;
export type DispatcherFactory = (o: { connectTimeoutMs: number; caFile?: string | undefined; insecureSkipVerify?: boolean | undefined }) => Dispatcher;

export interface ClusterRuntime {
  readonly config: ClusterConfig;
  readonly dispatcher: Dispatcher;
  readonly pool: MgrPool;
  readonly versions: VersionMemory;
  readonly accounts: ReadonlyMap<string, TokenAccount>;
}

/** Reads at most `cap` bytes of a body and discards the rest (error bodies, redirects, login answers). */
export async function readCapped(body: Readable, cap = 65536): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
    if (size < cap) chunks.push(b.subarray(0, cap - size));
    size += b.length;
  }
  return Buffer.concat(chunks);
}

/** Anonymous GET /api/health/minimal: the active mgr answers 401, a standby a redirect or 5xx. */
function probeWith(dispatcher: Dispatcher, timeoutMs: number): Probe {
  return async (origin, signal) => {
    const res = await dispatcher.request({
      origin,
      path: '/api/health/minimal',
      method: 'GET',
      headers: { accept: cephMediaType('1.0') },
      signal,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    await res.body.dump();
    const loc = res.headers.location;
    return { status: res.statusCode, location: (Array.isArray(loc) ? loc[0] : loc) ?? null };
  };
}

export function createClusterRuntime(config: ClusterConfig, deps: { createDispatcher: DispatcherFactory; log: Logger; now?: () => number }): ClusterRuntime {
  const dispatcher = deps.createDispatcher({
    connectTimeoutMs: config.timeouts.connect_ms,
    caFile: config.tls.ca_file,
    insecureSkipVerify: config.tls.insecure_skip_verify,
  });
  if (config.tls.insecure_skip_verify) deps.log.warn({ cluster: config.name }, 'TLS certificate verification towards Ceph is DISABLED');
  const pool = createMgrPool({
    cluster: config.name,
    urls: config.dashboards,
    probe: probeWith(dispatcher, config.failover.probe_timeout_ms),
    log: deps.log,
    healthIntervalMs: config.failover.health_interval_ms,
    failoverWaitMs: config.failover.wait_ms,
    probeTimeoutMs: config.failover.probe_timeout_ms,
    ...(deps.now ? { now: deps.now } : {}),
  });
  const accounts = new Map<string, TokenAccount>(
    config.accounts.map((a) => [
      a.name,
      { username: a.username, password: () => resolveSecret(secretRefOf(a as Record<string, unknown>, 'password'), `ceph account ${a.name}`) },
    ]),
  );
  return { config, dispatcher, pool, versions: new VersionMemory(), accounts };
}

/** POST /api/auth on the active mgr with Accept v1.0 (Auth is a 1.0 endpoint in every release). */
export async function loginExchange(rt: ClusterRuntime, forward: ForwardFn, body: string): Promise<{ status: number; body: string }> {
  const origin = await rt.pool.active();
  let res: UpstreamResponse;
  try {
    res = await forward({
      dispatcher: rt.dispatcher,
      origin,
      method: 'POST',
      path: '/api/auth',
      headers: { accept: cephMediaType('1.0'), 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) },
      body: Buffer.from(body),
      headersTimeoutMs: rt.config.timeouts.headers_ms,
      bodyTimeoutMs: rt.config.timeouts.body_ms,
    });
  } catch (err) {
    if (err instanceof GatewayError && err.code === 'upstream_unreachable') rt.pool.markDown(origin, 'login: unreachable');
    throw err;
  }
  const text = (await readCapped(res.body)).toString('utf8');
  if (isStandbyAnswer('/api/auth', res.status, res.headers)) {
    rt.pool.markDown(origin, `login answered ${res.status} (standby)`);
    throw new GatewayError(503, 'ceph_unavailable', 'The Ceph mgr is changing over.');
  }
  return { status: res.status, body: text };
}
