// Admin API for API keys (`/gateway/v1/apikeys`): list, create (the key is in that one response only),
// revoke. Who may call it is decided by the injected `authorize`; errors are GatewayErrors for app.onError.

import { type Context, Hono } from 'hono';
import { z } from 'zod';
import { ApiKeyInputError, apikeyCreate, apikeyList, apikeyRevoke, isUniqueViolation } from '../auth/api-keys.ts';
import type { ApiKeyStore } from '../auth/apikey-store.ts';
import { GatewayError } from '../core/errors.ts';
import type { Principal } from '../core/principal.ts';
import type { AppEnv } from './env.ts';

export type ApiKeyAction = 'list' | 'create' | 'revoke';

export interface ApiKeyRoutesDeps {
  readonly store: ApiKeyStore;
  /** Returns the calling principal when allowed; throws a GatewayError (401/403) otherwise. */
  readonly authorize: (c: Context<AppEnv>, action: ApiKeyAction) => Promise<Principal>;
  readonly maxLifetimeDays?: number;
  readonly now?: () => Date;
}

const createBody = z
  .object({
    name: z.string().min(1).max(64),
    groups: z.array(z.string().min(1).max(128)).max(64).default([]),
    expires: z.string().min(1).max(40).optional(),
  })
  .strict();

export function createApiKeyRoutes(deps: ApiKeyRoutesDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const now = deps.now ?? (() => new Date());
  // The create response carries a secret: never cache it anywhere (RFC 9111 5.2.2.5).
  const noStore = (c: Context<AppEnv>) => c.header('Cache-Control', 'no-store');

  app.get('/', async (c) => {
    await deps.authorize(c, 'list');
    noStore(c);
    return c.json({ keys: await apikeyList(deps.store, now()) });
  });

  app.post('/', async (c) => {
    const principal = await deps.authorize(c, 'create');
    if (!(c.req.header('content-type') ?? '').toLowerCase().startsWith('application/json')) {
      throw new GatewayError(415, 'unsupported_media_type', 'Send application/json.');
    }
    const parsed = createBody.safeParse(await c.req.json().catch(() => undefined));
    if (!parsed.success)
      throw new GatewayError(400, 'bad_request', 'Body must be {"name": string, "groups": [string], "expires": "90d"}.', { cause: parsed.error });
    const body = parsed.data;
    let created: Awaited<ReturnType<typeof apikeyCreate>>;
    try {
      created = await apikeyCreate(
        deps.store,
        { name: body.name, groups: body.groups, ...(body.expires === undefined ? {} : { expires: body.expires }), createdBy: principal.id },
        { ...(deps.maxLifetimeDays === undefined ? {} : { maxLifetimeDays: deps.maxLifetimeDays }), now },
      );
    } catch (err) {
      // Only input errors are described to the caller; anything else (database down) stays a logged 500.
      if (!(err instanceof ApiKeyInputError)) throw err;
      throw new GatewayError(isUniqueViolation(err) ? 409 : 400, 'bad_request', err.message, { cause: err });
    }
    noStore(c);
    return c.json({ key: created.key, ...created.view }, 201);
  });

  app.delete('/:idOrName', async (c) => {
    await deps.authorize(c, 'revoke');
    const ok = await apikeyRevoke(deps.store, c.req.param('idOrName'), now());
    if (!ok) throw new GatewayError(404, 'not_found', 'No such API key.');
    return c.body(null, 204);
  });

  return app;
}
