// The audit viewer's list (/gateway/audit): the filter form, export buttons with the same filter,
// one row per record (when, who, what, decision and rule, status, duration), and cursor paging.
// Every value from a record is text in the markup; links are built only from encoded parameters.

import type { AuditRecord } from '../../audit/query.ts';
import { DECISIONS, FILTER_FIELDS, type FilterField, formParams, METHODS, OUTCOMES, type ViewerQuery } from './filters.ts';
import { Badge, Frame, Time } from './layout.tsx';

export interface ViewerProps {
  readonly who: string;
  readonly query: ViewerQuery;
  readonly items: readonly AuditRecord[] | null;
  readonly next: string | null;
  /** The filter as the audit API's query string (`from=...&principal=...`), for the export links. */
  readonly apiQuery: string;
  readonly pageSize: number;
}

const LABELS: Record<FilterField, string> = {
  from: 'From (UTC)',
  to: 'To (UTC)',
  principal: 'Principal id',
  group: 'Group',
  cluster: 'Cluster',
  pool: 'Pool',
  operation: 'Operation',
  method: 'Method',
  decision: 'Decision',
  status: 'HTTP status',
  outcome: 'Outcome',
  request_id: 'Request id',
};

const CHOICES: Partial<Record<FilterField, readonly string[]>> = { method: METHODS, decision: DECISIONS, outcome: OUTCOMES };

function Field(props: { readonly field: FilterField; readonly value: string | undefined; readonly problem: string | undefined }) {
  const { field, value } = props;
  const choices = CHOICES[field];
  const id = `filter-${field}`;
  const input =
    choices !== undefined ? (
      <select name={field} id={id}>
        <option value="">any</option>
        {choices.map((v) => (
          <option value={v} selected={v === value}>
            {v}
          </option>
        ))}
      </select>
    ) : field === 'from' || field === 'to' ? (
      <input type="datetime-local" name={field} id={id} value={value ?? ''} step="1" />
    ) : (
      <input type="text" name={field} id={id} value={value ?? ''} autocomplete="off" />
    );
  return (
    <div class="field">
      <label for={id}>{LABELS[field]}</label>
      {input}
      {props.problem === undefined ? null : <span class="deny">{props.problem}</span>}
    </div>
  );
}

export function FilterForm(props: { readonly query: ViewerQuery }) {
  const { form, problems } = props.query;
  return (
    <form class="filters card" method="get" action="/gateway/audit">
      {FILTER_FIELDS.map((f) => (
        <Field field={f} value={form[f]} problem={problems[f]} />
      ))}
      <div class="actions">
        <button type="submit">Filter</button>
        <a class="button secondary" href="/gateway/audit">
          Clear
        </a>
      </div>
    </form>
  );
}

function outcomeKind(r: AuditRecord): string {
  return r.outcome === 'unknown' ? 'unknown' : r.outcome === 'refused' ? 'refused' : 'ok';
}

function Row(props: { readonly r: AuditRecord; readonly carry: string }) {
  const { r } = props;
  const p = r.principal;
  return (
    <tr>
      <td>
        <a href={`/gateway/audit/record/${r.id}${props.carry}`}>
          <Time iso={r.received_at} />
        </a>
      </td>
      <td>
        {p === null ? (
          <span class="muted">no principal</span>
        ) : (
          <>
            <a href={`/gateway/audit${formParams({ principal: p.id })}`} title={p.id}>
              {p.name ?? p.id}
            </a>
            <div class="muted">{p.api_key_name === null ? p.auth_method : `API key ${p.api_key_name}`}</div>
          </>
        )}
      </td>
      <td class="path">
        <code>
          {r.method} {r.raw_path}
        </code>
        <div class="muted">{r.operation ?? r.route ?? ''}</div>
      </td>
      <td>{r.pools.join(', ')}</td>
      <td>
        {r.decision === null ? (
          <span class="muted">—</span>
        ) : (
          <>
            <Badge kind={r.decision.effect}>{r.decision.effect}</Badge>
            <div class="muted">{r.decision.rule_id ?? 'no rule'}</div>
          </>
        )}
      </td>
      <td>
        {r.status ?? '—'} <Badge kind={outcomeKind(r)}>{r.outcome}</Badge>
        {r.upstream_status !== null && r.upstream_status !== r.status ? <div class="muted">Ceph {r.upstream_status}</div> : null}
      </td>
      <td class="num">{r.duration_ms.total === null ? '—' : `${r.duration_ms.total} ms`}</td>
    </tr>
  );
}

export function ViewerPage(p: ViewerProps) {
  const { query, items } = p;
  const carry = formParams(query.form);
  const exportLink = (format: 'csv' | 'ndjson') =>
    `/gateway/v1/audit/export?${new URLSearchParams([['format', format]]).toString()}${p.apiQuery ? `&${p.apiQuery}` : ''}`;
  const problems = Object.values(query.problems);
  return (
    <Frame title="Audit log" nav="audit" who={p.who} auditLinks>
      <FilterForm query={query} />
      <div class="actions">
        <a class="button secondary" href={exportLink('csv')} download="cephgate-audit.csv">
          Export CSV
        </a>
        <a class="button secondary" href={exportLink('ndjson')} download="cephgate-audit.ndjson">
          Export NDJSON
        </a>
        <span class="muted">Exports stream every record that matches the filter, oldest first.</span>
      </div>
      {problems.length > 0 ? <p class="notice error">Check the filter: {problems.join('; ')}.</p> : null}
      {items === null ? null : items.length === 0 ? (
        <p class="notice">No record matches this filter{query.cursor === null ? '' : ' on this page'}.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th>When (UTC)</th>
              <th>Who</th>
              <th>What</th>
              <th>Pools</th>
              <th>Decision</th>
              <th>Status</th>
              <th class="num">Duration</th>
            </tr>
          </thead>
          <tbody>
            {items.map((r) => (
              <Row r={r} carry={carry} />
            ))}
          </tbody>
        </table>
      )}
      <nav class="pager">
        {query.cursor === null ? null : <a href={`/gateway/audit${carry}`}>Newest</a>}
        {p.next === null ? null : (
          <a href={`/gateway/audit${formParams(query.form, { cursor: p.next })}`} rel="next">
            Older {p.pageSize} →
          </a>
        )}
      </nav>
    </Frame>
  );
}
