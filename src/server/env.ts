// Typed per-request state shared by the middleware of the public app (hono Variables).

import type { HttpBindings } from '@hono/node-server';
import type { Decision, Principal, RequestHeaders, RequestTarget, RouteMatch } from '../pipeline/types.ts';

export interface RequestState {
  requestId: string;
  receivedAt: Date;
  target: RequestTarget;
  headers: RequestHeaders;
  clientIp: string;
  fromTrustedProxy: boolean;
  principal?: Principal;
  route?: RouteMatch;
  decision?: Decision;
  /** Set when the answer was produced by upstream: its status. */
  upstreamStatus?: number;
  /** Error code when the gateway refused or failed the request. */
  errorCode?: string;
  upstreamMs?: number;
  /** The answer was shared with other requests (request coalescing). */
  shared?: 'coalesced' | 'cached';
}

export interface AppEnv {
  Bindings: Partial<HttpBindings>;
  Variables: { state: RequestState };
}
