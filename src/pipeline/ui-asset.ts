// Serving one of the Ceph Dashboard web UI's files (ceph/ui-assets.ts) to a signed-in person: from the
// active mgr, with Ceph's caching headers, no Ceph token and no policy decision (the files are Ceph's
// public bundle; everything the UI then does is decided and recorded like any API call). A browser
// that is not signed in is sent to the login and back to where it was going.

import { loginUrl } from '../auth/browser/login.ts';
import type { RouteMatch } from '../core/catalogue.ts';
import { GatewayError } from '../core/errors.ts';
import type { Exchange } from '../core/exchange.ts';
import { upstreamPathAndQuery } from '../intake/request-target.ts';
import { upstreamRequestHeaders } from '../proxy/headers.ts';
import { sendUpstreamAnswer } from './answer.ts';
import type { PipelineDeps } from './deps.ts';
import type { PublicOrigin } from './forward.ts';

export async function serveUiAsset(deps: PipelineDeps, x: Exchange, route: RouteMatch, origin: PublicOrigin): Promise<void> {
  const { state } = x;
  try {
    state.principal = await deps.authenticate({ method: 'GET', headers: state.headers, target: state.target, clientIp: state.clientIp });
  } catch (err) {
    const wantsPage = (state.headers.get('accept')?.[0] ?? '').includes('text/html');
    if (!(err instanceof GatewayError) || err.status !== 401 || !wantsPage || deps.config.identity.browser_login?.enabled !== true) throw err;
    // Only the canonical target goes into `rd`; the login validates it again (same-origin paths only).
    x.send(303, { location: loginUrl(state.target.raw), 'cache-control': 'no-store', 'x-request-id': state.requestId }, null);
    return;
  }
  const upstream = await deps.upstream.send({
    requestId: state.requestId,
    cluster: route.cluster,
    cephAccount: null,
    method: 'GET',
    pathAndQuery: upstreamPathAndQuery(state.target),
    headers: upstreamRequestHeaders(state.headers, {
      requestId: state.requestId,
      clientIp: state.clientIp,
      fromTrustedProxy: state.fromTrustedProxy,
      ...origin(x.secure),
    }),
    body: null,
    operation: route.operation,
    clientAccept: state.headers.get('accept')?.[0] ?? null,
  });
  state.upstreamStatus = upstream.status;
  await sendUpstreamAnswer(x, upstream, { inspect: false, onInspected: () => undefined });
}
