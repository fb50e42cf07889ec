// Streams audit records as NDJSON or CSV in constant memory: batched keyset reads (oldest first),
// pulled only as fast as the consumer reads (Readable.from applies backpressure to the generator).

import { Readable } from 'node:stream';
import type { Db } from '../db/database.ts';
import { type AuditFilter, type AuditRecord, queryAudit } from './query.ts';

export type ExportFormat = 'ndjson' | 'csv';

/** Every matching record, oldest first, `batchSize` rows per query. */
export async function* iterateRecords(db: Db, filter: AuditFilter, batchSize = 1000): AsyncGenerator<AuditRecord> {
  let cursor: string | null = null;
  do {
    const page = await queryAudit(db, { ...filter, order: 'asc', limit: batchSize, ...(cursor === null ? {} : { cursor }) });
    yield* page.items;
    cursor = page.next;
    // PGlite runs in-process and can resolve every page without reaching the timers phase: yield so
    // a long export does not starve the gateway's other requests.
    await new Promise<void>((resolve) => setImmediate(resolve));
  } while (cursor !== null);
}

export const CSV_COLUMNS = [
  'id',
  'received_at',
  'forwarded_at',
  'completed_at',
  'request_id',
  'cluster',
  'principal_id',
  'principal_name',
  'principal_email',
  'principal_groups',
  'auth_method',
  'api_key_name',
  'client_ip',
  'user_agent',
  'method',
  'raw_path',
  'route',
  'operation',
  'path_params',
  'pools',
  'query',
  'body',
  'decision',
  'rule_id',
  'reason',
  'policy_version',
  'ceph_account',
  'outcome',
  'status',
  'upstream_status',
  'ceph_error_code',
  'ceph_error_detail',
  'ceph_task',
  'error_code',
  'duration_ms',
  'upstream_ms',
  'seq',
  'hash',
  'outcome_seq',
  'outcome_hash',
] as const;

function csvRow(r: AuditRecord): unknown[] {
  const p = r.principal;
  const d = r.decision;
  return [
    r.id,
    r.received_at,
    r.forwarded_at,
    r.completed_at,
    r.request_id,
    r.cluster,
    p?.id,
    p?.name,
    p?.email,
    p ? p.groups.join(';') : null,
    p?.auth_method,
    p?.api_key_name,
    r.client_ip,
    r.user_agent,
    r.method,
    r.raw_path,
    r.route,
    r.operation,
    JSON.stringify(r.path_params),
    r.pools.join(';'),
    JSON.stringify(r.query),
    r.body === null ? null : JSON.stringify(r.body),
    d?.effect,
    d?.rule_id,
    d?.reason,
    d?.policy_version,
    d?.ceph_account,
    r.outcome,
    r.status,
    r.upstream_status,
    r.ceph_error?.code,
    r.ceph_error?.detail,
    r.ceph_task,
    r.error_code,
    r.duration_ms.total,
    r.duration_ms.upstream,
    r.seq,
    r.hash,
    r.outcome_seq,
    r.outcome_hash,
  ];
}

/**
 * RFC 4180 quoting; cells a spreadsheet would run as a formula get a leading `'` (CSV injection, OWASP):
 * `= + - @`, tab, CR, LF, and their full-width forms, which some spreadsheet locales read as the same.
 */
export function csvCell(v: unknown): string {
  if (v === null || v === undefined) return '';
  let s = String(v);
  if (/^[=+\-@\t\r\n\uFF1D\uFF0B\uFF0D\uFF20]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

async function* lines(db: Db, filter: AuditFilter, format: ExportFormat, onRow?: (n: number) => void): AsyncGenerator<string> {
  if (format === 'csv') yield `${CSV_COLUMNS.join(',')}\r\n`;
  let n = 0;
  let chunk = '';
  for await (const r of iterateRecords(db, filter)) {
    chunk += format === 'csv' ? `${csvRow(r).map(csvCell).join(',')}\r\n` : `${JSON.stringify(r)}\n`;
    // Yield ~64 KiB chunks: one stream write per row would dominate the cost of a million-row export.
    if (chunk.length >= 65536) {
      yield chunk;
      chunk = '';
    }
    onRow?.(++n);
  }
  if (chunk.length > 0) yield chunk;
}

export function exportStream(db: Db, filter: AuditFilter, format: ExportFormat, onRow?: (n: number) => void): Readable {
  return Readable.from(lines(db, filter, format, onRow), { objectMode: false, highWaterMark: 65536 });
}
