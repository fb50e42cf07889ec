// The audit API as a hono sub-app: GET /gateway/v1/audit (JSON page + `next` cursor) and
// GET /gateway/v1/audit/export?format=ndjson|csv (streamed). Who may read is decided by `authorize`.

import { Readable } from 'node:stream';
import { type Context, Hono } from 'hono';
import { z } from 'zod';
import { exportStream } from '../audit/export.ts';
import { type AuditFilter, type AuditQuery, decodeCursor, queryAudit } from '../audit/query.ts';
import { auditUnavailable, GatewayError } from '../core/errors.ts';
import type { Db } from '../db/database.ts';
import type { AppEnv } from './env.ts';

export interface AuditRoutesDeps {
  /** `flush` first, so that a caller sees the outcome of a call this gateway has just answered. */
  readonly store: { readonly db: Db; flush(): Promise<void> };
  /** Throws GatewayError when the principal may not read the audit log. */
  readonly authorize: (c: Context<AppEnv>) => Promise<void>;
}

const isoDate = z.iso.datetime({ offset: true }).transform((s) => new Date(s));
const filterSchema = z
  .object({
    from: isoDate.optional(),
    to: isoDate.optional(),
    principal: z.string().min(1).optional(),
    group: z.string().min(1).optional(),
    cluster: z.string().min(1).optional(),
    method: z.enum(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']).optional(),
    operation: z.string().min(1).optional(),
    route: z.string().min(1).optional(),
    pool: z.string().min(1).optional(),
    /** `name:value`, a decoded path parameter. */
    param: z
      .string()
      .regex(/^[^:]+:/, 'must be name:value')
      .optional(),
    decision: z.enum(['allow', 'deny']).optional(),
    status: z.coerce.number().int().min(100).max(599).optional(),
    outcome: z.enum(['complete', 'refused', 'unknown']).optional(),
    request_id: z.string().min(1).optional(),
  })
  .strict();
const pageSchema = filterSchema.extend({
  limit: z.coerce.number().int().min(1).max(1000).optional(),
  cursor: z.string().min(1).max(200).optional(),
  order: z.enum(['asc', 'desc']).optional(),
});
const exportSchema = filterSchema.extend({ format: z.enum(['ndjson', 'csv']).default('ndjson') });

function parse<S extends z.ZodType>(schema: S, c: Context): z.output<S> {
  const r = schema.safeParse(c.req.query());
  if (!r.success) throw new GatewayError(400, 'bad_request', `Invalid audit query: ${z.prettifyError(r.error).replaceAll('\n', ' ')}`);
  return r.data;
}

function toFilter(q: z.output<typeof filterSchema>): AuditFilter {
  const { request_id, param, ...rest } = q;
  const f: { -readonly [K in keyof AuditFilter]: AuditFilter[K] } = {};
  for (const [k, v] of Object.entries(rest)) if (v !== undefined) (f as Record<string, unknown>)[k] = v;
  if (request_id !== undefined) f.requestId = request_id;
  if (param !== undefined) {
    const at = param.indexOf(':');
    f.param = { name: param.slice(0, at), value: param.slice(at + 1) };
  }
  return f;
}

/** A read of the audit database that fails is the store being unavailable: 503 with Retry-After, as for writes. */
async function reading<T>(read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (err) {
    throw err instanceof GatewayError ? err : auditUnavailable('The audit log cannot be read right now.', err);
  }
}

export function createAuditRoutes(deps: AuditRoutesDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.get('/gateway/v1/audit', async (c) => {
    await deps.authorize(c);
    const { limit, cursor, order, ...filter } = parse(pageSchema, c);
    if (cursor !== undefined) {
      try {
        decodeCursor(cursor);
      } catch {
        throw new GatewayError(400, 'bad_request', 'Invalid audit cursor.');
      }
    }
    const q: AuditQuery = {
      ...toFilter(filter),
      ...(limit === undefined ? {} : { limit }),
      ...(cursor === undefined ? {} : { cursor }),
      ...(order === undefined ? {} : { order }),
    };
    await deps.store.flush();
    return c.json(await reading(() => queryAudit(deps.store.db, q)));
  });

  app.get('/gateway/v1/audit/export', async (c) => {
    await deps.authorize(c);
    const { format, ...filter } = parse(exportSchema, c);
    await deps.store.flush();
    // The stream's first read is only made once the answer has started: ask the database first, so
    // that a store that is down gets the 503 below and not a 200 cut off after its headers.
    await reading(() => queryAudit(deps.store.db, { limit: 1 }));
    const stream = exportStream(deps.store.db, toFilter(filter), format);
    const body = Readable.toWeb(stream) as unknown as ReadableStream<Uint8Array>;
    return new Response(body, {
      status: 200,
      headers: {
        'Content-Type': format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson',
        'Content-Disposition': `attachment; filename="cephgate-audit.${format === 'csv' ? 'csv' : 'ndjson'}"`,
        'Cache-Control': 'no-store',
      },
    });
  });

  return app;
}
