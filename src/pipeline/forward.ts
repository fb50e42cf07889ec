// The forward stage: the request as it leaves for Ceph (the client's allowed headers plus the gateway's
// forwarding headers, the exact body decided on, the raw path and query) sent through the Ceph
// upstream with the decided account or the Ceph-native user's own token, and the upstream metrics.

import type { RouteMatch } from '../core/catalogue.ts';
import type { Decision } from '../core/decision.ts';
import type { Exchange } from '../core/exchange.ts';
import type { HttpMethod } from '../core/http.ts';
import type { StageSpan } from '../core/trace.ts';
import type { UpstreamResponse } from '../core/upstream.ts';
import { upstreamPathAndQuery } from '../intake/request-target.ts';
import { upstreamRequestHeaders } from '../proxy/headers.ts';
import type { PipelineDeps } from './deps.ts';

export interface Forwarding {
  readonly method: HttpMethod;
  readonly route: RouteMatch;
  readonly decision: Decision;
  readonly body: Buffer | null;
  /** A Ceph-native principal's own Ceph token (never a service account for them). */
  readonly userCredential?: { readonly token: string; rejected(): void };
}

export type PublicOrigin = (secure: boolean) => { readonly proto: 'http' | 'https'; readonly host: string };

/** Sends the request to Ceph; `span` (when traced) is the upstream stage's, whose context Ceph receives. */
export async function forwardToCeph(deps: PipelineDeps, x: Exchange, f: Forwarding, origin: PublicOrigin, span?: StageSpan): Promise<UpstreamResponse> {
  const { state } = x;
  const started = performance.now();
  try {
    const upstream = await deps.upstream.send({
      requestId: state.requestId,
      cluster: f.route.cluster,
      cephAccount: f.decision.cephAccount,
      method: f.method,
      pathAndQuery: upstreamPathAndQuery(state.target),
      headers: {
        ...upstreamRequestHeaders(state.headers, {
          requestId: state.requestId,
          clientIp: state.clientIp,
          fromTrustedProxy: state.fromTrustedProxy,
          ...origin(x.secure),
        }),
        // Traced: Ceph gets the upstream span's traceparent, which continues the client's.
        ...span?.contextHeaders(),
      },
      body: f.body,
      operation: f.route.operation,
      clientAccept: state.headers.get('accept')?.[0] ?? null,
      ...(f.userCredential ? { userCredential: f.userCredential } : {}),
    });
    state.upstreamStatus = upstream.status;
    if (upstream.shared) state.shared = upstream.shared;
    span?.set({
      'cephgate.cluster': f.route.cluster,
      'cephgate.mgr': upstream.mgr,
      'http.response.status_code': upstream.status,
      'cephgate.shared': upstream.shared,
    });
    deps.metrics.upstreamAnswers.inc({ cluster: f.route.cluster, shared: upstream.shared ?? 'no' });
    // Only answers that really came from Ceph measure Ceph's latency.
    if (!upstream.shared) deps.metrics.upstreamSeconds.observe({ cluster: f.route.cluster }, (performance.now() - started) / 1000);
    return upstream;
  } finally {
    state.upstreamMs = performance.now() - started;
  }
}

/**
 * The scheme and host the client used, for X-Forwarded-Proto/-Host: server.public_url when set, else the
 * listener's (https when TLS is configured or the connection is TLS). Worked out once, not per request.
 */
export function publicOriginOf(server: PipelineDeps['config']['server']): PublicOrigin {
  if (server.public_url) {
    const fixed = { proto: server.public_url.startsWith('https:') ? ('https' as const) : ('http' as const), host: new URL(server.public_url).host };
    return () => fixed;
  }
  const host = `${server.listen.host}:${server.listen.port}`;
  const https = { proto: 'https' as const, host };
  const http = { proto: 'http' as const, host };
  return (secure) => (server.tls || secure ? https : http);
}
