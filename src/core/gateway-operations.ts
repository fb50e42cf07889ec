// The gateway's own operations as policies name them, and the authoriser the web layer asks before
// serving one (pipeline/gateway-operations.ts implements it; server/build.ts passes it in).

import type { Principal } from './principal.ts';
import type { RequestState } from './request-state.ts';

export type GatewayOperationId = 'Gateway.audit.read' | 'Gateway.explain' | 'Gateway.apikey.admin';

/** Authenticates the request, decides the operation and records it; throws the refusal (GatewayError). */
export type GatewayAuthorizer = (state: RequestState, method: string, op: GatewayOperationId) => Promise<Principal>;
