// The audit viewer's filter form: reads its query (empty fields mean "any"; times typed in a
// datetime-local field are UTC), checks it as strictly as the audit API does, and gives back the
// AuditFilter plus the same filter in the API's parameters, so the export buttons stream exactly
// the records the page lists.

import { type AuditFilter, decodeCursor } from '../../audit/query.ts';

export const FILTER_FIELDS = [
  'from',
  'to',
  'principal',
  'group',
  'cluster',
  'pool',
  'operation',
  'method',
  'decision',
  'status',
  'outcome',
  'request_id',
] as const;
export type FilterField = (typeof FILTER_FIELDS)[number];

export const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;
export const DECISIONS = ['allow', 'deny'] as const;
export const OUTCOMES = ['complete', 'refused', 'unknown'] as const;

export interface ViewerQuery {
  readonly filter: AuditFilter;
  /** The form's values as typed (to fill the form again and to carry the filter in links). */
  readonly form: Partial<Record<FilterField, string>>;
  readonly cursor: string | null;
  /** Field -> what is wrong with it. The page lists nothing while there are problems. */
  readonly problems: Partial<Record<FilterField | 'cursor', string>>;
}

/** A datetime-local value (`2026-11-26T20:05`, seconds optional) is UTC; a full ISO time keeps its offset. */
const LOCAL = /^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d{1,3})?)?$/;
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d{1,9})?)?(Z|[+-]\d\d:\d\d)$/;
const MAX_TEXT = 500;

function parseTime(v: string): Date | null {
  const text = LOCAL.test(v) ? `${v}Z` : ISO.test(v) ? v : null;
  if (text === null) return null;
  const d = new Date(text);
  return Number.isNaN(d.getTime()) ? null : d;
}

const oneOf = <T extends string>(values: readonly T[], v: string): v is T => (values as readonly string[]).includes(v);

export function parseViewerQuery(query: Record<string, string | undefined>): ViewerQuery {
  const form: Partial<Record<FilterField, string>> = {};
  const problems: ViewerQuery['problems'] = {};
  const f: { -readonly [K in keyof AuditFilter]: AuditFilter[K] } = {};
  for (const field of FILTER_FIELDS) {
    const v = query[field]?.trim() ?? '';
    if (v === '') continue;
    form[field] = v;
    if (v.length > MAX_TEXT) {
      problems[field] = `at most ${MAX_TEXT} characters`;
      continue;
    }
    switch (field) {
      case 'from':
      case 'to': {
        const d = parseTime(v);
        if (d === null) problems[field] = 'a date and time (UTC), e.g. 2026-11-26T20:05';
        else f[field] = d;
        break;
      }
      case 'method':
        if (oneOf(METHODS, v)) f.method = v;
        else problems.method = `one of ${METHODS.join(', ')}`;
        break;
      case 'decision':
        if (oneOf(DECISIONS, v)) f.decision = v;
        else problems.decision = 'allow or deny';
        break;
      case 'outcome':
        if (oneOf(OUTCOMES, v)) f.outcome = v;
        else problems.outcome = OUTCOMES.join(', ');
        break;
      case 'status': {
        const n = /^\d{3}$/.test(v) ? Number(v) : Number.NaN;
        if (n >= 100 && n <= 599) f.status = n;
        else problems.status = 'an HTTP status, 100 to 599';
        break;
      }
      case 'request_id':
        f.requestId = v;
        break;
      default:
        f[field] = v;
    }
  }
  let cursor: string | null = query.cursor?.trim() || null;
  if (cursor !== null) {
    try {
      decodeCursor(cursor);
    } catch {
      problems.cursor = 'not a cursor of this audit log; start again from the newest page';
      cursor = null;
    }
  }
  return { filter: f, form, cursor, problems };
}

/** The filter in the audit API's own parameters (times as ISO-8601 UTC), for the export links. */
export function apiParams(q: ViewerQuery): URLSearchParams {
  const p = new URLSearchParams();
  const f = q.filter;
  if (f.from) p.set('from', f.from.toISOString());
  if (f.to) p.set('to', f.to.toISOString());
  for (const k of ['principal', 'group', 'cluster', 'pool', 'operation', 'method', 'decision', 'outcome'] as const) {
    const v = f[k];
    if (v !== undefined) p.set(k, v);
  }
  if (f.status !== undefined) p.set('status', String(f.status));
  if (f.requestId !== undefined) p.set('request_id', f.requestId);
  return p;
}

/** The form's values as a query string (links to records, pages and back keep the filter as typed). */
export function formParams(form: ViewerQuery['form'], extra: Record<string, string> = {}): string {
  const p = new URLSearchParams();
  for (const field of FILTER_FIELDS) {
    const v = form[field];
    if (v !== undefined) p.set(field, v);
  }
  for (const [k, v] of Object.entries(extra)) p.set(k, v);
  const s = p.toString();
  return s === '' ? '' : `?${s}`;
}
