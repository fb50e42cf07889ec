// The summary (/gateway/audit/summary): per pool or per person, the allowed changes and the denials
// of each UTC day in a range, each cell linking to the list of that key's records of that day.

import type { SummaryBy, SummaryRow } from '../../audit/summary.ts';
import { formParams } from './filters.ts';
import { count, Frame } from './layout.tsx';

export interface SummaryForm {
  readonly from: string;
  readonly to: string;
  readonly by: SummaryBy;
  readonly group: string;
  readonly cluster: string;
}

export interface SummaryProps {
  readonly who: string;
  readonly form: SummaryForm;
  readonly problem: string | null;
  /** The days of the range, `YYYY-MM-DD`, oldest first. */
  readonly days: readonly string[];
  readonly rows: readonly SummaryRow[] | null;
  readonly maxKeys: number;
}

function nextDay(day: string): string {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + 1);
  return d.toISOString().slice(0, 10);
}

function Cell(props: { readonly by: SummaryBy; readonly rowKey: string | null; readonly day: string; readonly m: number; readonly d: number }) {
  if (props.m === 0 && props.d === 0) return <td class="num muted">·</td>;
  const filter: Record<string, string> = { from: `${props.day}T00:00`, to: `${nextDay(props.day)}T00:00` };
  if (props.rowKey !== null) filter[props.by === 'pool' ? 'pool' : 'principal'] = props.rowKey;
  return (
    <td class="num">
      <a href={`/gateway/audit${formParams(filter)}`} title={`${props.m} changes, ${props.d} denials`}>
        <span class="allow">{count(props.m)}</span> / <span class="deny">{count(props.d)}</span>
      </a>
    </td>
  );
}

export function SummaryPage(p: SummaryProps) {
  const { form } = p;
  return (
    <Frame title="Summary: changes and denials per day" nav="summary" who={p.who} auditLinks>
      <form class="filters card" method="get" action="/gateway/audit/summary">
        <label>
          From (UTC day)
          <input type="date" name="from" value={form.from} />
        </label>
        <label>
          To (UTC day, included)
          <input type="date" name="to" value={form.to} />
        </label>
        <label>
          Per
          <select name="by">
            <option value="principal" selected={form.by === 'principal'}>
              person
            </option>
            <option value="pool" selected={form.by === 'pool'}>
              pool
            </option>
          </select>
        </label>
        <label>
          Group
          <input type="text" name="group" value={form.group} autocomplete="off" />
        </label>
        <label>
          Cluster
          <input type="text" name="cluster" value={form.cluster} autocomplete="off" />
        </label>
        <div class="actions">
          <button type="submit">Show</button>
        </div>
      </form>
      {p.problem === null ? null : <p class="notice error">{p.problem}</p>}
      <p class="muted">
        Each cell: <span class="allow">allowed changes (POST, PUT, PATCH, DELETE)</span> / <span class="deny">policy denials</span>; it links to those records.
        Busiest {p.maxKeys} first.
      </p>
      {p.rows === null ? null : p.rows.length === 0 ? (
        <p class="notice">No change and no denial in this range.</p>
      ) : (
        <div class="card">
          <table>
            <thead>
              <tr>
                <th>{form.by === 'pool' ? 'Pool' : 'Person'}</th>
                {p.days.map((d) => (
                  <th class="num">{d.slice(5)}</th>
                ))}
                <th class="num">Total</th>
              </tr>
            </thead>
            <tbody>
              {p.rows.map((r) => {
                const byDay = new Map(r.days.map((c) => [c.day, c]));
                return (
                  <tr>
                    <td>
                      {r.key === null ? <span class="muted">no principal</span> : (r.label ?? r.key)}
                      {form.by === 'principal' && r.key !== null ? <div class="muted mono">{r.key}</div> : null}
                    </td>
                    {p.days.map((day) => {
                      const c = byDay.get(day);
                      return <Cell by={form.by} rowKey={r.key} day={day} m={c?.mutations ?? 0} d={c?.denials ?? 0} />;
                    })}
                    <td class="num">
                      <span class="allow">{count(r.total.mutations)}</span> / <span class="deny">{count(r.total.denials)}</span>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </Frame>
  );
}
