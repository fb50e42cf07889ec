// What the gateway knows about one request as it goes through the stages: set at intake, filled in
// by each stage (principal, route, decision, upstream answer), read by the access log and the audit.

import type { RouteMatch } from './catalogue.ts';
import type { Decision } from './decision.ts';
import type { RequestHeaders, RequestTarget } from './http.ts';
import type { Principal } from './principal.ts';
import type { RequestTrace } from './trace.ts';

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
  /** The request's trace, when tracing is on (telemetry/tracing.ts). */
  trace?: RequestTrace;
  /** The answer was shared with other requests (request coalescing). */
  shared?: 'coalesced' | 'cached';
}
