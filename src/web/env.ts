// The hono environment of the gateway's own pages and APIs: Node bindings and the request state.

import type { HttpBindings } from '@hono/node-server';
import type { RequestState } from '../core/request-state.ts';

export interface AppEnv {
  Bindings: Partial<HttpBindings>;
  Variables: { state: RequestState };
}
