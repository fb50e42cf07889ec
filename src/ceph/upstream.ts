// The Upstream that sends a prepared request to Ceph: active mgr, service-account token, negotiated
// version, and the few safe retries (401 -> one re-login, 415 -> one learned version, dead mgr -> one other mgr).

import { Readable } from 'node:stream';
import type { CephConfig } from '../config/ceph.ts';
import type { CephRelease } from '../core/catalogue.ts';
import { GatewayError } from '../core/errors.ts';
import { SAFE_METHODS } from '../core/http.ts';
import type { Logger } from '../core/logger.ts';
import type { Upstream, UpstreamRequest, UpstreamResponse } from '../core/upstream.ts';
import { createDispatcher, type forward } from '../proxy/forward.ts';
import { neverReachedUpstream } from '../proxy/upstream-errors.ts';
import { type ClusterRuntime, createClusterRuntime, loginExchange, readCapped } from './cluster-runtime.ts';
import { cephAnswerHeaders, isStandbyAnswer, stripLoginTtl, upstreamHeaders } from './request-prep.ts';
import { createTokenManager, type TokenManager } from './tokens.ts';
import { isUiAsset } from './ui-assets.ts';
import { type Negotiated, negotiate, routeKey, versionFrom415 } from './versions.ts';

export { detectRelease } from './release.ts';

export interface CephUpstreamDeps {
  readonly forward: typeof forward;
  /** Defaults to the proxy's keep-alive undici Agent factory. */
  readonly createDispatcher?: typeof createDispatcher;
  readonly log: Logger;
  readonly now?: () => number;
  /** Metrics observers passed to the token managers. */
  readonly onLogin?: (cluster: string, result: 'ok' | 'failed') => void;
  readonly onCacheHit?: (cluster: string) => void;
}

export interface CephUpstream extends Upstream {
  /** The token manager (shared with the Ceph-native login). */
  readonly tokens: TokenManager;
  /** Runtime of a cluster, for readiness and diagnostics. */
  cluster(name: string): ClusterRuntime | undefined;
}

export type { CephRelease };

export function createCephUpstream(config: CephConfig, deps: CephUpstreamDeps): CephUpstream {
  const runtimes = new Map<string, ClusterRuntime>();
  for (const c of config.clusters)
    runtimes.set(
      c.name,
      createClusterRuntime(c, { createDispatcher: deps.createDispatcher ?? createDispatcher, log: deps.log, ...(deps.now ? { now: deps.now } : {}) }),
    );
  const defaultCluster = config.default_cluster ?? config.clusters[0]?.name;

  // Per-cluster login policy: the token manager takes one, so each cluster gets its own manager.
  const managers = new Map<string, TokenManager>();
  for (const [name, rt] of runtimes) {
    const l = rt.config.login;
    managers.set(
      name,
      createTokenManager({
        http: (_cluster, body) => loginExchange(rt, deps.forward, body),
        accounts: new Map([[name, rt.accounts]]),
        policy: {
          maxCredentialFailures: l.max_credential_failures,
          backoffBaseMs: l.backoff_base_ms,
          backoffMaxMs: l.backoff_max_ms,
          refreshBeforeExpMs: l.refresh_before_exp_s * 1000,
        },
        log: deps.log,
        ...(deps.now ? { now: deps.now } : {}),
        ...(deps.onLogin ? { onLogin: deps.onLogin } : {}),
        ...(deps.onCacheHit ? { onCacheHit: deps.onCacheHit } : {}),
      }),
    );
  }
  const tokens: TokenManager = {
    getToken: (cluster, account) => managerOf(cluster).getToken(cluster, account),
    invalidate: (cluster, account, token) => managerOf(cluster).invalidate(cluster, account, token),
    loginCount: (cluster, account) => managerOf(cluster).loginCount(cluster, account),
    permissions: (cluster, account) => managerOf(cluster).permissions(cluster, account),
  };
  function managerOf(cluster: string): TokenManager {
    const m = managers.get(cluster);
    if (m === undefined) throw new GatewayError(404, 'not_found', `No cluster named ${JSON.stringify(cluster)}.`);
    return m;
  }

  return {
    async send(req) {
      const rt = runtimes.get(req.cluster);
      if (rt === undefined) throw new GatewayError(404, 'not_found', `No cluster named ${JSON.stringify(req.cluster)}.`);
      return await sendToCluster(rt, tokens, deps, req);
    },
    tokens,
    cluster: (name) => runtimes.get(name),
    async ping(cluster) {
      const rt = runtimes.get(cluster ?? defaultCluster ?? '');
      return rt === undefined ? false : rt.pool.ping();
    },
    async close() {
      await Promise.all(
        [...runtimes.values()].map(async (rt) => {
          rt.pool.close();
          await rt.dispatcher.close();
        }),
      );
    },
  };
}

/**
 * One request to one cluster: the active mgr, the account's (or the Ceph-native user's) token, the
 * negotiated version, and the few safe retries: 401 -> one re-login, 415 -> one learned version, a
 * mgr that is down or a standby -> one other mgr.
 */
async function sendToCluster(rt: ClusterRuntime, tokens: TokenManager, deps: CephUpstreamDeps, req: UpstreamRequest): Promise<UpstreamResponse> {
  const op = req.operation;
  const needsToken = op === null || !op.unauthenticated;
  const user = req.userCredential;
  const account = user ? null : (req.cephAccount ?? rt.config.default_account ?? null);
  if (needsToken && user === undefined && account === null)
    throw new GatewayError(503, 'ceph_unavailable', 'No Ceph account is configured to serve this request.');
  const template = op?.template ?? (req.pathAndQuery.split('?')[0] as string);
  const body = op?.id === 'Auth.create' ? stripLoginTtl(req.body) : req.body;

  // The UI's own files are not API endpoints: the browser's Accept goes as it is, nothing is negotiated.
  let neg: Negotiated = isUiAsset(op)
    ? { accept: req.clientAccept ?? '*/*', version: '', source: 'client', plainJson: false }
    : negotiate({ clientAccept: req.clientAccept, method: req.method, operation: op, template, pins: rt.config.version_pins, learned: rt.versions });
  let relogged = false;
  let relearned = false;
  let failedOver = false;

  for (;;) {
    const origin = await rt.pool.active(req.signal);
    const token = !needsToken ? null : user ? user.token : account !== null ? await tokens.getToken(rt.config.name, account) : null;
    let res: UpstreamResponse;
    try {
      res = await deps.forward({
        dispatcher: rt.dispatcher,
        origin,
        method: req.method,
        path: req.pathAndQuery,
        headers: upstreamHeaders(req.headers, { method: req.method, accept: neg.accept, token, body }),
        body,
        ...(req.signal ? { signal: req.signal } : {}),
        headersTimeoutMs: rt.config.timeouts.headers_ms,
        bodyTimeoutMs: rt.config.timeouts.body_ms,
      });
    } catch (err) {
      const unreachable = err instanceof GatewayError && err.code === 'upstream_unreachable';
      if (unreachable) rt.pool.markDown(origin, 'request: unreachable');
      // Another mgr only when this one surely never saw the request, or the method is safe.
      if (unreachable && !failedOver && req.signal?.aborted !== true && (neverReachedUpstream(err) || SAFE_METHODS.has(req.method))) {
        failedOver = true;
        continue;
      }
      throw err;
    }

    if (isStandbyAnswer(req.pathAndQuery, res.status, res.headers)) {
      // A standby took the request: it did nothing, so any method may go to the active mgr. Never leaked.
      await readCapped(res.body, 0);
      rt.pool.markDown(origin, `answered ${res.status} (standby)`);
      if (failedOver)
        throw new GatewayError(503, 'ceph_unavailable', 'The Ceph mgr is changing over.', { headers: { 'Retry-After': '2' }, extra: { retry_after: 2 } });
      failedOver = true;
      continue;
    }
    if (res.status === 401 && user !== undefined) {
      // The user's own token: no password to log in again. The gateway session ends; Ceph's 401 goes back.
      user.rejected();
      return respond(res, neg.plainJson, origin);
    }
    if (res.status === 401 && token !== null && account !== null && !relogged) {
      // Expired, logged out, or the user was modified after iat (docs/ceph-facts.md): log in again once. Bodies are Buffers.
      await readCapped(res.body, 0);
      tokens.invalidate(rt.config.name, account, token);
      relogged = true;
      continue;
    }
    if (res.status === 415 && neg.source !== 'client' && !relearned) {
      // A 415 happens before the handler runs, so retrying changes nothing twice (docs/ceph-facts.md).
      const text = await readCapped(res.body);
      const learned = versionFrom415(text.toString('utf8'));
      if (learned === null || learned === neg.version) return respond({ ...res, body: Readable.from([text]) }, neg.plainJson, origin);
      const key = routeKey(req.method, template);
      if (rt.versions.learn(key, learned))
        deps.log.warn({ cluster: rt.config.name, route: key, sent: neg.version, learned }, 'ceph endpoint version differs from the catalogue; learned');
      neg = negotiate({ clientAccept: req.clientAccept, method: req.method, operation: op, template, pins: {}, learned: rt.versions });
      relearned = true;
      continue;
    }
    return respond(res, neg.plainJson, origin);
  }
}

function respond(res: UpstreamResponse, plainJson: boolean, mgr: string): UpstreamResponse {
  return { status: res.status, headers: cephAnswerHeaders(res.headers, plainJson), body: res.body, mgr };
}
