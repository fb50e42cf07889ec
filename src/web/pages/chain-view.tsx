// The chain page (/gateway/audit/verify): the chain's head and newest checkpoint, the state of the
// last verification run by this gateway, and the button that starts one (a POST carrying the
// session's CSRF token). While a run is under way the page reloads itself (meta refresh, no script).

import type { BrokenReason } from '../../audit/verify.ts';
import { Badge, count, Frame, ShortHash, Time } from './layout.tsx';
import type { VerificationRun } from './verification.ts';

export interface ChainProps {
  readonly who: string;
  readonly head: { readonly seq: number; readonly hash: string };
  readonly checkpoint: { readonly id: number; readonly seq: number; readonly hash: string; readonly createdAt: Date; readonly signed: boolean } | null;
  readonly pruneAnchor: { readonly seq: number; readonly createdAt: Date } | null;
  readonly run: VerificationRun | null;
  /** The session's CSRF token for the form; null for credentials that are not cookies. */
  readonly csrfToken: string | null;
  readonly checksSignatures: boolean;
}

const BROKEN_WORDS: Record<BrokenReason, string> = {
  hash_mismatch: "an event's content no longer matches its hash (it was edited)",
  prev_hash_mismatch: 'an event does not link to the one before it (events were removed, inserted or reordered)',
  missing_event: 'an event is missing from the sequence',
  duplicate_seq: 'two events claim the same position',
  head_mismatch: 'the recorded chain head does not match the last event',
  beyond_head: 'events were appended past the recorded head',
  checkpoint_mismatch: 'a checkpoint does not match the recomputed chain (the chain was rewritten after it)',
};

const seconds = (from: Date, to: Date) => `${((to.getTime() - from.getTime()) / 1000).toFixed(1)} s`;

function RunState(props: { readonly run: VerificationRun | null; readonly checkpoint: ChainProps['checkpoint']; readonly checksSignatures: boolean }) {
  const { run, checkpoint } = props;
  if (run === null) return <p class="notice">The chain has not been verified by this gateway since it started.</p>;
  const by = (
    <>
      started by <code>{run.startedBy}</code> at <Time iso={run.startedAt.toISOString()} />
    </>
  );
  if (run.finishedAt === null) {
    const pct = run.progress.head === 0 ? 0 : Math.floor((run.progress.seq / run.progress.head) * 100);
    return (
      <p class="notice">
        Verifying: seq {count(run.progress.seq)} of {count(run.progress.head)} ({pct}%), {by}. This page reloads every few seconds.
      </p>
    );
  }
  if (run.failed || run.report === null)
    return <p class="notice error">The last verification could not read the audit log (the database was unavailable); {by}. Try again.</p>;
  const r = run.report;
  const covered = checkpoint !== null && checkpoint.seq <= r.headSeq && checkpoint.seq > r.fromSeq;
  return (
    <>
      {r.ok ? (
        <p class="notice good">
          <Badge kind="ok">intact</Badge> Every hash from seq {count(r.fromSeq + 1)} to {count(r.headSeq)} was recomputed and matches ({count(r.checked)}{' '}
          events).
        </p>
      ) : (
        <p class="notice error">
          <Badge kind="bad">broken</Badge> The chain breaks at seq {count(r.firstBroken?.seq ?? 0)}: {r.firstBroken ? BROKEN_WORDS[r.firstBroken.reason] : ''}
          {r.firstBroken?.recordId ? (
            <>
              {' '}
              (<a href={`/gateway/audit/record/${r.firstBroken.recordId}`}>the record</a>)
            </>
          ) : null}
          .
        </p>
      )}
      <dl class="kv">
        <dt>Run</dt>
        <dd>
          {by}, took {seconds(run.startedAt, run.finishedAt)}
        </dd>
        <dt>Last verified checkpoint</dt>
        <dd>
          {covered && r.ok ? (
            <>
              #{checkpoint.id} at seq {count(checkpoint.seq)}: its hash equals the recomputed chain
            </>
          ) : (
            <span class="muted">none in the verified range</span>
          )}
        </dd>
        <dt>Signatures</dt>
        <dd>
          {run.signatures === null ? (
            <span class="muted">
              {props.checksSignatures ? 'not checked' : 'not checked here: this gateway has no signing key for its pages; use cephgate audit verify --key'}
            </span>
          ) : run.signatures.firstBad !== null ? (
            <span class="bad">
              the signature of checkpoint #{run.signatures.firstBad.id} (seq {count(run.signatures.firstBad.seq)}) does not verify
            </span>
          ) : (
            <span class="ok">
              {count(run.signatures.checked)} valid, {count(run.signatures.unsigned)} unsigned
            </span>
          )}
        </dd>
      </dl>
    </>
  );
}

export function ChainPage(p: ChainProps) {
  const running = p.run !== null && p.run.finishedAt === null;
  return (
    <Frame title="Audit chain" nav="chain" who={p.who} auditLinks {...(running ? { refreshSeconds: 2 } : {})}>
      <div class="card">
        <h2>The chain</h2>
        <dl class="kv">
          <dt>Head</dt>
          <dd>
            seq {count(p.head.seq)} <ShortHash hash={p.head.hash} />
          </dd>
          <dt>Newest checkpoint</dt>
          <dd>
            {p.checkpoint === null ? (
              <span class="muted">none yet</span>
            ) : (
              <>
                #{p.checkpoint.id} at seq {count(p.checkpoint.seq)}, <Time iso={p.checkpoint.createdAt.toISOString()} />,{' '}
                {p.checkpoint.signed ? 'signed (Ed25519)' : 'unsigned'} <ShortHash hash={p.checkpoint.hash} />
              </>
            )}
          </dd>
          {p.pruneAnchor === null ? null : (
            <>
              <dt>Retention</dt>
              <dd>
                records up to seq {count(p.pruneAnchor.seq)} were removed at <Time iso={p.pruneAnchor.createdAt.toISOString()} />; verification starts after
                them
              </dd>
            </>
          )}
        </dl>
      </div>
      <div class="card">
        <h2>Verification</h2>
        <RunState run={p.run} checkpoint={p.checkpoint} checksSignatures={p.checksSignatures} />
        <form method="post" action="/gateway/audit/verify" class="actions">
          {p.csrfToken === null ? null : <input type="hidden" name="csrf_token" value={p.csrfToken} />}
          <button type="submit" disabled={running}>
            {running ? 'Verification running…' : 'Verify the whole chain now'}
          </button>
          <span class="muted">Recomputes every hash from the stored records, as cephgate audit verify does. One run at a time.</span>
        </form>
      </div>
    </Frame>
  );
}
