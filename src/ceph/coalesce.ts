// Request coalescing for safe, expensive Ceph reads (e.g. /api/health/full): concurrent identical
// GETs for the same cluster, Ceph account, path+query and requested version share one upstream
// call, and an optional micro-cache serves repeats for a few seconds. Authorisation still runs per
// request (this wraps only the upstream stage); answers are never shared across Ceph accounts.

import { Readable } from 'node:stream';
import type { ClusterConfig } from '../config/ceph.ts';
import type { Upstream, UpstreamRequest, UpstreamResponse } from '../core/upstream.ts';

interface Buffered {
  readonly status: number;
  readonly headers: Record<string, string | string[]>;
  readonly body: Buffer;
  readonly at: number;
}

interface ClusterRule {
  readonly routes: ReadonlySet<string>;
  readonly cacheMs: number;
  readonly maxBody: number;
}

/** Reads a whole body up to `max` bytes; null when it is larger (then it is not shared). */
async function readAll(body: Readable, max: number): Promise<Buffer | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of body) {
    size += (c as Buffer).length;
    if (size > max) {
      body.destroy();
      return null;
    }
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks, size);
}

function replay(b: Buffered, shared: 'coalesced' | 'cached' | undefined): UpstreamResponse {
  return { status: b.status, headers: b.headers, body: Readable.from([b.body]), ...(shared ? { shared } : {}) };
}

export function createCoalescingUpstream(inner: Upstream, clusters: readonly ClusterConfig[], now: () => number = Date.now): Upstream {
  const rules = new Map<string, ClusterRule>();
  for (const c of clusters) {
    if (c.coalesce.routes.length > 0)
      rules.set(c.name, { routes: new Set(c.coalesce.routes), cacheMs: c.coalesce.micro_cache_ms, maxBody: c.coalesce.max_body_bytes });
  }
  if (rules.size === 0) return inner;
  const inflight = new Map<string, Promise<Buffered | null>>();
  const cache = new Map<string, Buffered>();

  function keyOf(req: UpstreamRequest): string {
    // Everything that can change Ceph's answer: cluster, account (Ceph RBAC), path+query, version.
    return JSON.stringify([req.cluster, req.cephAccount, req.pathAndQuery, req.clientAccept]);
  }

  function sweep(t: number, cacheMs: number): void {
    // Bounded by the number of distinct coalesced URLs; expired entries are dropped on each miss.
    for (const [k, v] of cache) if (t - v.at > cacheMs) cache.delete(k);
  }

  return {
    async send(req) {
      const rule = rules.get(req.cluster);
      const template = req.operation?.template;
      if (!rule || req.method !== 'GET' || !template || !rule.routes.has(`GET ${template}`) || req.body !== null) return inner.send(req);
      const key = keyOf(req);
      const t = now();
      const hit = cache.get(key);
      if (hit && t - hit.at <= rule.cacheMs) return replay(hit, 'cached');
      const pending = inflight.get(key);
      if (pending) {
        const shared = await pending;
        if (shared) return replay(shared, 'coalesced');
        return inner.send(req); // the leader's answer was too large to share: ask on our own
      }
      const call = (async (): Promise<Buffered | null> => {
        const res = await inner.send(req);
        const body = await readAll(res.body, rule.maxBody);
        return body === null ? null : { status: res.status, headers: res.headers, body, at: now() };
      })();
      inflight.set(key, call);
      let b: Buffered | null;
      try {
        b = await call;
      } finally {
        inflight.delete(key);
      }
      // Too large to share (rare for these routes): the leader asks again on its own, streamed.
      if (b === null) return inner.send(req);
      if (rule.cacheMs > 0 && b.status >= 200 && b.status < 300) {
        sweep(b.at, rule.cacheMs);
        cache.set(key, b);
      }
      return replay(b, undefined);
    },
    ping: (cluster) => inner.ping(cluster),
    close: () => inner.close(),
  };
}
