// The start page (/gateway/): who you are, how you signed in and until when, what the policy lets you
// do (in words), and where to go next. What it shows differs by kind of credential (docs/pages.md).

import type { Principal } from '../../core/principal.ts';
import { Badge, Frame, Time } from './layout.tsx';
import type { RuleInWords, RulesForPrincipal } from './rules-in-words.ts';

/** What the page knows about the credential beyond the principal itself. */
export type Credential =
  | { readonly kind: 'session'; readonly idpName: string | null; readonly startedAt: string | null; readonly expiresAt: string | null }
  | { readonly kind: 'bearer'; readonly issuer: string; readonly expiresAt: string | null }
  | { readonly kind: 'api_key'; readonly name: string; readonly createdBy: string | null; readonly expiresAt: string | null }
  | { readonly kind: 'ceph_native'; readonly cephUser: string | null };

export interface LandingProps {
  readonly principal: Principal;
  readonly credential: Credential;
  readonly rules: RulesForPrincipal;
  readonly canReadAudit: boolean;
  readonly dashboardUrl: string | null;
}

function HowSignedIn(props: { readonly c: Credential; readonly authenticatedAt: string }) {
  const c = props.c;
  switch (c.kind) {
    case 'session':
      return (
        <>
          <dt>Signed in</dt>
          <dd>with {c.idpName ?? 'the identity provider'}, in this browser (a session of this gateway)</dd>
          <dt>Since</dt>
          <dd>
            <Time iso={c.startedAt ?? props.authenticatedAt} />
          </dd>
          <dt>Session ends</dt>
          <dd>{c.expiresAt === null ? <span class="muted">unknown</span> : <Time iso={c.expiresAt} />}</dd>
        </>
      );
    case 'bearer':
      return (
        <>
          <dt>Credential</dt>
          <dd>
            a bearer token from <code>{c.issuer}</code>; your client holds it, so there is nothing to sign out of here
          </dd>
          <dt>Token expires</dt>
          <dd>{c.expiresAt === null ? <span class="muted">unknown</span> : <Time iso={c.expiresAt} />}</dd>
        </>
      );
    case 'api_key':
      return (
        <>
          <dt>Credential</dt>
          <dd>
            the API key <code>{c.name}</code>
            {c.createdBy === null ? null : (
              <>
                , created by <code>{c.createdBy}</code>
              </>
            )}
          </dd>
          <dt>Key expires</dt>
          <dd>{c.expiresAt === null ? <span class="muted">never</span> : <Time iso={c.expiresAt} />}</dd>
        </>
      );
    case 'ceph_native':
      return (
        <>
          <dt>Credential</dt>
          <dd>
            a Ceph-native login (<code>POST /api/auth</code>)
            {c.cephUser === null ? null : (
              <>
                {' '}
                as the Ceph user <code>{c.cephUser}</code>
              </>
            )}
            ; Ceph's own role of that user also applies
          </dd>
        </>
      );
  }
}

function RuleList(props: { readonly rules: readonly RuleInWords[]; readonly kind: string }) {
  return (
    <ul class="rules">
      {props.rules.map((r) => (
        <li>
          <Badge kind={props.kind}>{r.effect}</Badge> <strong>{r.headline}</strong> <code class="muted">{r.id}</code>
          <div class="muted">{r.details.join(' · ')}</div>
        </li>
      ))}
    </ul>
  );
}

export function LandingPage(p: LandingProps) {
  const who = p.principal;
  const { never, allowed, trial } = p.rules;
  return (
    <Frame title={`Hello, ${who.name}`} nav="home" who={who.name} auditLinks={p.canReadAudit}>
      <div class="card">
        <h2>Who you are</h2>
        <dl class="kv">
          <dt>Name</dt>
          <dd>{who.name}</dd>
          <dt>E-mail</dt>
          <dd>{who.email ?? <span class="muted">none</span>}</dd>
          <dt>Principal id</dt>
          <dd>
            <code>{who.id}</code>
          </dd>
          <dt>Groups</dt>
          <dd>
            {who.groups.length === 0 ? (
              <span class="muted">none</span>
            ) : (
              who.groups.map((g, i) => (
                <>
                  {i > 0 ? ', ' : ''}
                  <code>{g}</code>
                </>
              ))
            )}
          </dd>
          <HowSignedIn c={p.credential} authenticatedAt={who.authenticatedAt.toISOString()} />
        </dl>
      </div>
      <div class="card">
        <h2>Where to go</h2>
        <div class="actions">
          {p.dashboardUrl === null ? null : (
            <a class="button" href={p.dashboardUrl}>
              Ceph Dashboard
            </a>
          )}
          {p.canReadAudit ? (
            <a class="button" href="/gateway/audit">
              Audit log
            </a>
          ) : null}
          <a class="button secondary" href="/gateway/openapi.json">
            Gateway API (OpenAPI)
          </a>
          {p.credential.kind === 'session' ? (
            <a class="button secondary" href="/gateway/logout">
              Sign out
            </a>
          ) : null}
        </div>
        <p class="muted">
          The Ceph API is served through this gateway at <code>/api/</code>: every request is decided by the policy below, and every change is recorded.
        </p>
      </div>
      <div class="card">
        <h2>What you may do</h2>
        {never.length + allowed.length === 0 ? (
          <p class="notice">No rule of the policy names you: every request is refused (the policy denies by default).</p>
        ) : (
          <p class="muted">A request is allowed when an allow rule below covers it and no deny rule does; everything else is refused.</p>
        )}
        {never.length > 0 ? (
          <>
            <h2>Never</h2>
            <RuleList rules={never} kind="deny" />
          </>
        ) : null}
        {allowed.length > 0 ? (
          <>
            <h2>Allowed</h2>
            <RuleList rules={allowed} kind="allow" />
          </>
        ) : null}
        {trial.length > 0 ? (
          <>
            <h2>On trial (recorded, not enforced)</h2>
            <RuleList rules={trial} kind="unknown" />
          </>
        ) : null}
      </div>
    </Frame>
  );
}
