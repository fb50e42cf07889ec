// One audit record (/gateway/audit/record/<id>): the intent (who, what, how it was decided, the
// shadow rules that matched, the redacted body), the outcome, and the record's place in the hash
// chain (its events' hashes recomputed, their neighbours, the checkpoint that covers it).

import type { AuditRecord } from '../../audit/query.ts';
import type { EventPlace, RecordPlace } from '../../audit/verify.ts';
import { formParams } from './filters.ts';
import { Badge, count, Frame, ShortHash, Time } from './layout.tsx';
import type { VerificationRun } from './verification.ts';

export interface RecordProps {
  readonly who: string;
  readonly record: AuditRecord;
  readonly place: RecordPlace;
  readonly verification: VerificationRun | null;
  /** The viewer's filter as a query string, for the way back to the list. */
  readonly back: string;
}

const OUTCOME_WORDS = {
  complete: 'The request was forwarded to Ceph and its answer recorded.',
  refused: 'The gateway refused the request itself; nothing was forwarded to Ceph.',
  unknown: 'The request was forwarded, but no outcome was recorded (the gateway stopped or lost its database before the answer).',
} as const;

function shadowRules(shadow: unknown): { ruleId: string; effect: string }[] {
  if (!Array.isArray(shadow)) return [];
  return shadow.flatMap((s) =>
    typeof s === 'object' && s !== null && typeof (s as { ruleId?: unknown }).ruleId === 'string'
      ? [{ ruleId: String((s as { ruleId: string }).ruleId), effect: String((s as { effect?: unknown }).effect ?? '') }]
      : [],
  );
}

function Neighbour(props: { readonly n: EventPlace['previous']; readonly label: string }) {
  const n = props.n;
  if (n === null) return <span class="muted">{props.label === 'previous' ? 'none (start of the chain)' : 'none (the head)'}</span>;
  return (
    <>
      <a href={`/gateway/audit/record/${n.recordId}`}>
        seq {count(n.seq)} ({n.kind})
      </a>{' '}
      {n.linked ? <Badge kind="ok">linked</Badge> : <Badge kind="bad">link broken</Badge>}
    </>
  );
}

function EventRows(props: { readonly e: EventPlace }) {
  const e = props.e;
  return (
    <>
      <dt>{e.kind === 'intent' ? 'Intent event' : 'Outcome event'}</dt>
      <dd>
        seq {count(e.seq)} · hash <ShortHash hash={e.hash} /> · previous hash <ShortHash hash={e.prevHash} /> ·{' '}
        {e.hashMatches ? <Badge kind="ok">hash matches content</Badge> : <Badge kind="bad">hash does not match content</Badge>}
      </dd>
      <dt>Before it</dt>
      <dd>
        <Neighbour n={e.previous} label="previous" />
      </dd>
      <dt>After it</dt>
      <dd>
        <Neighbour n={e.next} label="next" />
      </dd>
    </>
  );
}

function VerifiedLine(props: { readonly run: VerificationRun | null; readonly lastSeq: number }) {
  const run = props.run;
  if (run === null) return <span class="muted">the whole chain has not been verified by this gateway since it started</span>;
  if (run.finishedAt === null) return <span class="muted">a verification is running</span>;
  if (run.failed || run.report === null) return <span class="warn">the last verification could not read the chain</span>;
  if (run.report.ok && run.report.headSeq >= props.lastSeq)
    return (
      <span class="ok">
        verified intact up to seq {count(run.report.headSeq)} at <Time iso={run.finishedAt.toISOString()} />
      </span>
    );
  if (run.report.ok)
    return (
      <span class="muted">
        the last verification (<Time iso={run.finishedAt.toISOString()} />) ended at seq {count(run.report.headSeq)}, before this record
      </span>
    );
  return <span class="bad">the last verification found the chain broken at seq {count(run.report.firstBroken?.seq ?? 0)}</span>;
}

export function RecordPage(p: RecordProps) {
  const r = p.record;
  const d = r.decision;
  const pr = r.principal;
  const shadow = shadowRules(d?.shadow);
  const lastSeq = p.place.outcome?.seq ?? p.place.intent.seq;
  const cp = p.place.checkpoint;
  return (
    <Frame title={`Audit record ${r.id}`} nav="audit" who={p.who} auditLinks>
      <p>
        <a href={`/gateway/audit${p.back}`}>← Back to the list</a>
      </p>
      <div class="card">
        <h2>Request</h2>
        <dl class="kv">
          <dt>What</dt>
          <dd>
            <code>
              {r.method} {r.raw_path}
            </code>
          </dd>
          <dt>Operation</dt>
          <dd>
            {r.operation === null ? <span class="muted">none</span> : <code>{r.operation}</code>}{' '}
            {r.route === null ? null : <code class="muted">{r.route}</code>}
          </dd>
          <dt>Received</dt>
          <dd>
            <Time iso={r.received_at} />
          </dd>
          <dt>Cluster</dt>
          <dd>{r.cluster ?? <span class="muted">none</span>}</dd>
          <dt>Pools</dt>
          <dd>
            {r.pools.length === 0 ? (
              <span class="muted">none</span>
            ) : (
              r.pools.map((pool, k) => (
                <>
                  {k > 0 ? ', ' : ''}
                  <a href={`/gateway/audit${formParams({ pool })}`}>{pool}</a>
                </>
              ))
            )}
          </dd>
          <dt>Path parameters</dt>
          <dd>
            <pre>{JSON.stringify(r.path_params, null, 2)}</pre>
          </dd>
          <dt>Query</dt>
          <dd>
            <pre>{JSON.stringify(r.query, null, 2)}</pre>
          </dd>
          <dt>Request id</dt>
          <dd>
            <a href={`/gateway/audit${formParams({ request_id: r.request_id })}`}>
              <code>{r.request_id}</code>
            </a>
          </dd>
        </dl>
      </div>
      <div class="card">
        <h2>Who</h2>
        <dl class="kv">
          <dt>Principal</dt>
          <dd>
            {pr === null ? (
              <span class="muted">none (authentication failed or no credential)</span>
            ) : (
              <>
                {pr.name ?? ''} <a href={`/gateway/audit${formParams({ principal: pr.id })}`}>{pr.id}</a>
              </>
            )}
          </dd>
          {pr === null ? null : (
            <>
              <dt>E-mail</dt>
              <dd>{pr.email ?? <span class="muted">none</span>}</dd>
              <dt>Groups</dt>
              <dd>{pr.groups.join(', ')}</dd>
              <dt>Signed in by</dt>
              <dd>
                {pr.auth_method ?? ''}
                {pr.api_key_name === null ? '' : ` (API key ${pr.api_key_name})`}
              </dd>
            </>
          )}
          <dt>Client</dt>
          <dd>
            {r.client_ip} <span class="muted">{r.user_agent ?? ''}</span>
          </dd>
        </dl>
      </div>
      <div class="card">
        <h2>Decision</h2>
        {d === null ? (
          <p class="muted">No policy decision: the request was refused before one was made ({r.error_code ?? 'no code'}).</p>
        ) : (
          <dl class="kv">
            <dt>Effect</dt>
            <dd>
              <Badge kind={d.effect}>{d.effect}</Badge> {d.rule_id === null ? <span class="muted">no rule (default deny)</span> : <code>{d.rule_id}</code>}
            </dd>
            <dt>Reason</dt>
            <dd>{d.reason ?? ''}</dd>
            <dt>Ceph account</dt>
            <dd>{d.ceph_account ?? <span class="muted">none</span>}</dd>
            <dt>Policy version</dt>
            <dd>{d.policy_version === null ? '' : <ShortHash hash={d.policy_version} />}</dd>
            <dt>Shadow rules</dt>
            <dd>
              {shadow.length === 0 ? (
                <span class="muted">none matched</span>
              ) : (
                shadow.map((s) => (
                  <div>
                    <code>{s.ruleId}</code> would have decided <Badge kind={s.effect}>{s.effect}</Badge>
                  </div>
                ))
              )}
            </dd>
          </dl>
        )}
        <h2>Body (secrets redacted before it was recorded)</h2>
        {r.body === null ? <p class="muted">no body</p> : <pre>{JSON.stringify(r.body, null, 2)}</pre>}
      </div>
      <div class="card">
        <h2>Outcome</h2>
        <p>
          <Badge kind={r.outcome === 'complete' ? 'ok' : r.outcome}>{r.outcome}</Badge> {OUTCOME_WORDS[r.outcome]}
        </p>
        <dl class="kv">
          <dt>Status to the client</dt>
          <dd>{r.status ?? <span class="muted">unknown</span>}</dd>
          <dt>Ceph's status</dt>
          <dd>{r.upstream_status ?? <span class="muted">none</span>}</dd>
          <dt>Forwarded</dt>
          <dd>
            <Time iso={r.forwarded_at} />
          </dd>
          <dt>Completed</dt>
          <dd>
            <Time iso={r.completed_at} />
          </dd>
          <dt>Duration</dt>
          <dd>
            {r.duration_ms.total === null ? '—' : `${r.duration_ms.total} ms`}
            {r.duration_ms.upstream === null ? '' : ` (Ceph ${r.duration_ms.upstream} ms)`}
          </dd>
          <dt>Ceph's error</dt>
          <dd>{r.ceph_error === null ? <span class="muted">none</span> : `${r.ceph_error.code ?? ''} ${r.ceph_error.detail ?? ''}`}</dd>
          <dt>Ceph task</dt>
          <dd>{r.ceph_task ?? <span class="muted">none</span>}</dd>
          <dt>Error code</dt>
          <dd>{r.error_code === null ? <span class="muted">none</span> : <code>{r.error_code}</code>}</dd>
        </dl>
      </div>
      <div class="card">
        <h2>Place in the hash chain</h2>
        <dl class="kv">
          <EventRows e={p.place.intent} />
          {p.place.outcome === null ? (
            <>
              <dt>Outcome event</dt>
              <dd class="muted">none</dd>
            </>
          ) : (
            <EventRows e={p.place.outcome} />
          )}
          <dt>Covered by checkpoint</dt>
          <dd>
            {cp === null ? (
              <span class="muted">not yet (no checkpoint after this record)</span>
            ) : (
              <>
                #{cp.id} at seq {count(cp.seq)}, <Time iso={cp.createdAt.toISOString()} />, {cp.signed ? 'signed' : 'unsigned'}
              </>
            )}
          </dd>
          <dt>Chain head</dt>
          <dd>
            seq {count(p.place.head.seq)} <ShortHash hash={p.place.head.hash} />
          </dd>
          <dt>Whole chain</dt>
          <dd>
            <VerifiedLine run={p.verification} lastSeq={lastSeq} /> · <a href="/gateway/audit/verify">chain verification</a>
          </dd>
        </dl>
      </div>
    </Frame>
  );
}
