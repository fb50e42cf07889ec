// GET /gateway/audit/summary: changes and denials per UTC day, per person or per pool. Same policy
// operation as the viewer (Gateway.audit.read). The range is whole UTC days, at most MAX_DAYS, so one
// page is one bounded scan of the received_at index.

import type { Context } from 'hono';
import { SUMMARY_MAX_KEYS, type SummaryBy, summarizeAudit } from '../../audit/summary.ts';
import type { AppEnv } from '../env.ts';
import type { PagesDeps } from './deps.ts';
import { reading } from './reading.ts';
import { page } from './respond.ts';
import { type SummaryForm, SummaryPage } from './summary-view.tsx';

export const SUMMARY_DEFAULT_DAYS = 7;
export const SUMMARY_MAX_DAYS = 62;
const DAY_MS = 86_400_000;
const DAY = /^\d{4}-\d\d-\d\d$/;

const dayOf = (d: Date) => d.toISOString().slice(0, 10);

function parseDay(v: string): Date | null {
  if (!DAY.test(v)) return null;
  const d = new Date(`${v}T00:00:00Z`);
  return Number.isNaN(d.getTime()) || dayOf(d) !== v ? null : d;
}

export interface SummaryRange {
  readonly form: SummaryForm;
  readonly from: Date;
  /** Exclusive: the day after the last day shown. */
  readonly to: Date;
  readonly problem: string | null;
}

/** The form's range and options; the last SUMMARY_DEFAULT_DAYS days (today included) when none is given. */
export function parseSummaryQuery(q: Record<string, string | undefined>, now: Date): SummaryRange {
  const today = parseDay(dayOf(now)) as Date;
  const text = (k: string) => (q[k] ?? '').trim().slice(0, 200);
  const by: SummaryBy = q.by === 'pool' ? 'pool' : 'principal';
  const lastIn = text('to') === '' ? today : parseDay(text('to'));
  const firstIn = text('from') === '' && lastIn ? new Date(lastIn.getTime() - (SUMMARY_DEFAULT_DAYS - 1) * DAY_MS) : parseDay(text('from'));
  const fallback = { from: new Date(today.getTime() - (SUMMARY_DEFAULT_DAYS - 1) * DAY_MS), to: new Date(today.getTime() + DAY_MS) };
  const form = (from: Date, last: Date): SummaryForm => ({ from: dayOf(from), to: dayOf(last), by, group: text('group'), cluster: text('cluster') });
  if (firstIn === null || lastIn === null) {
    return { form: { ...form(fallback.from, today), from: text('from'), to: text('to') }, ...fallback, problem: 'Days are written YYYY-MM-DD.' };
  }
  const days = Math.round((lastIn.getTime() - firstIn.getTime()) / DAY_MS) + 1;
  if (days < 1 || days > SUMMARY_MAX_DAYS) {
    return { form: form(firstIn, lastIn), ...fallback, problem: `Choose between 1 and ${SUMMARY_MAX_DAYS} days, the first not after the last.` };
  }
  return { form: form(firstIn, lastIn), from: firstIn, to: new Date(lastIn.getTime() + DAY_MS), problem: null };
}

export function createSummaryHandler(deps: PagesDeps) {
  return async function summary(c: Context<AppEnv>): Promise<Response> {
    const principal = await deps.authorize(c, 'Gateway.audit.read');
    const range = parseSummaryQuery(c.req.query(), deps.now());
    const days: string[] = [];
    for (let t = range.from.getTime(); t < range.to.getTime(); t += DAY_MS) days.push(dayOf(new Date(t)));
    let rows = null;
    if (range.problem === null) {
      await deps.audit.flush();
      const { group, cluster, by } = range.form;
      rows = await reading(() =>
        summarizeAudit(deps.audit.db, { from: range.from, to: range.to, by, ...(group === '' ? {} : { group }), ...(cluster === '' ? {} : { cluster }) }),
      );
    }
    const props = { who: principal.name, form: range.form, problem: range.problem, days, rows, maxKeys: SUMMARY_MAX_KEYS };
    return page(c, SummaryPage(props), range.problem === null ? 200 : 400);
  };
}
