// Audit queries: filters over intents joined with their outcomes, time-ordered keyset pagination on
// (received_at, id), and the public record shape returned by the API and exports.

import { and, asc, desc, eq, gte, isNotNull, isNull, lt, type SQL, sql } from 'drizzle-orm';
import type { Db } from '../db/database.ts';
import { auditIntents as i, auditOutcomes as o } from '../db/schema.ts';
import type { IntentRow, OutcomeRow } from './records.ts';

export type OutcomeState = 'complete' | 'refused' | 'unknown';

export interface AuditFilter {
  /** received_at >= from */
  readonly from?: Date;
  /** received_at < to */
  readonly to?: Date;
  /** Principal id (`<issuer>#<subject>`, `apikey:<id>`, `ceph:<cluster>/<user>`). */
  readonly principal?: string;
  readonly group?: string;
  readonly cluster?: string;
  readonly method?: string;
  /** Catalogue operation id, e.g. `Pool.create`. */
  readonly operation?: string;
  /** Route template, e.g. `/api/pool/{pool_name}`. */
  readonly route?: string;
  /** A pool named by a path parameter or a pool body field. */
  readonly pool?: string;
  /** A decoded path parameter, e.g. {name: 'uid', value: 'bob'}. */
  readonly param?: { readonly name: string; readonly value: string };
  readonly decision?: 'allow' | 'deny';
  /** Final HTTP status returned to the client. */
  readonly status?: number;
  readonly outcome?: OutcomeState;
  readonly requestId?: string;
}

export interface AuditQuery extends AuditFilter {
  /** Page size, 1..1000 (default 100). */
  readonly limit?: number;
  /** Opaque cursor from a previous page's `next`. */
  readonly cursor?: string;
  /** `desc` (newest first, default) or `asc`. */
  readonly order?: 'asc' | 'desc';
}

export interface AuditRecord {
  id: string;
  seq: number;
  hash: string;
  request_id: string;
  received_at: string;
  forwarded_at: string | null;
  completed_at: string | null;
  cluster: string | null;
  principal: { id: string; name: string | null; email: string | null; groups: string[]; auth_method: string | null; api_key_name: string | null } | null;
  client_ip: string;
  user_agent: string | null;
  method: string;
  raw_path: string;
  route: string | null;
  operation: string | null;
  path_params: Record<string, string>;
  pools: string[];
  query: Record<string, string[]>;
  body: unknown;
  decision: {
    effect: string;
    rule_id: string | null;
    reason: string | null;
    policy_version: string | null;
    ceph_account: string | null;
    shadow: unknown;
  } | null;
  outcome: OutcomeState;
  status: number | null;
  upstream_status: number | null;
  ceph_error: { detail: string | null; code: string | null } | null;
  ceph_task: string | null;
  error_code: string | null;
  duration_ms: { total: number | null; upstream: number | null };
  outcome_seq: number | null;
  outcome_hash: string | null;
}

export interface AuditPage {
  readonly items: AuditRecord[];
  /** Cursor for the next page, or null at the end. */
  readonly next: string | null;
}

/** received_at at full (microsecond) precision: a JS Date would drop the µs and repeat rows across pages. */
const receivedAtText = sql<string>`to_char(${i.receivedAt} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

const statusExpr = sql<number | null>`coalesce(${o.status}, ${i.finalStatus})`;

export function filterConditions(f: AuditFilter): SQL[] {
  const c: SQL[] = [];
  const jsonHas = (col: SQL | typeof i.pools, v: unknown) => sql`${col} @> ${JSON.stringify(v)}::jsonb`;
  if (f.from) c.push(gte(i.receivedAt, f.from));
  if (f.to) c.push(lt(i.receivedAt, f.to));
  if (f.principal !== undefined) c.push(eq(i.principalId, f.principal));
  if (f.group !== undefined) c.push(jsonHas(sql`${i.principalGroups}`, [f.group]));
  if (f.cluster !== undefined) c.push(eq(i.cluster, f.cluster));
  if (f.method !== undefined) c.push(eq(i.method, f.method.toUpperCase()));
  if (f.operation !== undefined) c.push(eq(i.operation, f.operation));
  if (f.route !== undefined) c.push(eq(i.routeTemplate, f.route));
  if (f.pool !== undefined) c.push(jsonHas(sql`${i.pools}`, [f.pool]));
  if (f.param !== undefined) c.push(jsonHas(sql`${i.pathParams}`, { [f.param.name]: f.param.value }));
  if (f.decision !== undefined) c.push(eq(i.decisionEffect, f.decision));
  if (f.status !== undefined) c.push(sql`${statusExpr} = ${f.status}`);
  if (f.requestId !== undefined) c.push(eq(i.requestId, f.requestId));
  if (f.outcome === 'complete') c.push(isNotNull(o.recordId));
  if (f.outcome === 'refused') c.push(and(isNull(o.recordId), isNotNull(i.finalStatus)) as SQL);
  if (f.outcome === 'unknown') c.push(and(isNull(o.recordId), isNull(i.finalStatus)) as SQL);
  return c;
}

export function encodeCursor(receivedAt: Date | string, id: string): string {
  return Buffer.from(JSON.stringify([typeof receivedAt === 'string' ? receivedAt : receivedAt.toISOString(), id])).toString('base64url');
}

export function decodeCursor(cursor: string): { receivedAt: string; id: string } {
  const v: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (
    !Array.isArray(v) ||
    v.length !== 2 ||
    typeof v[0] !== 'string' ||
    typeof v[1] !== 'string' ||
    Number.isNaN(Date.parse(v[0])) ||
    !/^[0-9a-f-]{36}$/.test(v[1])
  ) {
    throw new Error('invalid cursor');
  }
  if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?Z$/.test(v[0])) throw new Error('invalid cursor');
  return { receivedAt: v[0], id: v[1] };
}

/** One page. Throws Error('invalid cursor') for a malformed cursor (the HTTP layer answers 400). */
export async function queryAudit(db: Db, q: AuditQuery): Promise<AuditPage> {
  const limit = Math.min(Math.max(q.limit ?? 100, 1), 1000);
  const order = q.order ?? 'desc';
  const conds = filterConditions(q);
  if (q.cursor !== undefined) {
    const c = decodeCursor(q.cursor);
    const cmp = order === 'desc' ? sql`<` : sql`>`;
    conds.push(sql`(${i.receivedAt}, ${i.id}) ${cmp} (${c.receivedAt}::timestamptz, ${c.id}::uuid)`);
  }
  const dir = order === 'desc' ? desc : asc;
  const rows = await db
    .select({ audit_intents: i, audit_outcomes: o, cursorTime: receivedAtText })
    .from(i)
    .leftJoin(o, eq(o.recordId, i.id))
    .where(conds.length > 0 ? and(...conds) : undefined)
    .orderBy(dir(i.receivedAt), dir(i.id))
    .limit(limit + 1);
  const more = rows.length > limit;
  const page = more ? rows.slice(0, limit) : rows;
  const last = page.at(-1);
  return {
    items: page.map((r) => toRecord(r.audit_intents, r.audit_outcomes)),
    next: more && last ? encodeCursor(last.cursorTime, last.audit_intents.id) : null,
  };
}

/** The rows of one record (its intent and, when it has one, its outcome), as stored: the detail view
 *  shows the record and recomputes its chain hashes from these. Null when no intent has that id. */
export async function findRecordRows(db: Db, id: string): Promise<{ intent: IntentRow; outcome: OutcomeRow | null } | null> {
  if (!UUID.test(id)) return null;
  const [row] = await db.select().from(i).leftJoin(o, eq(o.recordId, i.id)).where(eq(i.id, id.toLowerCase())).limit(1);
  return row === undefined ? null : { intent: row.audit_intents, outcome: row.audit_outcomes };
}

const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

const iso = (d: Date | null): string | null => (d === null ? null : d.toISOString());

export function toRecord(r: IntentRow, out: OutcomeRow | null): AuditRecord {
  const state: OutcomeState = out !== null ? 'complete' : r.finalStatus !== null ? 'refused' : 'unknown';
  return {
    id: r.id,
    seq: r.seq,
    hash: r.hash,
    request_id: r.requestId,
    received_at: r.receivedAt.toISOString(),
    forwarded_at: iso(out?.forwardedAt ?? null),
    completed_at: iso(out?.completedAt ?? null),
    cluster: r.cluster,
    principal:
      r.principalId === null
        ? null
        : {
            id: r.principalId,
            name: r.principalName,
            email: r.principalEmail,
            groups: r.principalGroups,
            auth_method: r.authMethod,
            api_key_name: r.apiKeyName,
          },
    client_ip: r.clientIp,
    user_agent: r.userAgent,
    method: r.method,
    raw_path: r.rawPath,
    route: r.routeTemplate,
    operation: r.operation,
    path_params: r.pathParams,
    pools: r.pools,
    query: r.query,
    body: r.body,
    decision:
      r.decisionEffect === null
        ? null
        : {
            effect: r.decisionEffect,
            rule_id: r.decisionRuleId,
            reason: r.decisionReason,
            policy_version: r.policyVersion,
            ceph_account: r.cephAccount,
            shadow: r.decisionShadow,
          },
    outcome: state,
    status: out?.status ?? r.finalStatus,
    upstream_status: out?.upstreamStatus ?? null,
    ceph_error: out && (out.cephErrorDetail !== null || out.cephErrorCode !== null) ? { detail: out.cephErrorDetail, code: out.cephErrorCode } : null,
    ceph_task: out?.cephTask ?? null,
    error_code: out?.errorCode ?? r.errorCode,
    duration_ms: {
      total: out ? out.completedAt.getTime() - r.receivedAt.getTime() : null,
      upstream: out?.forwardedAt ? out.completedAt.getTime() - out.forwardedAt.getTime() : null,
    },
    outcome_seq: out?.seq ?? null,
    outcome_hash: out?.hash ?? null,
  };
}
