// The pages a browser gets instead of Ceph's JSON error: "Sign in with <IdP>" for visitors without a
// (valid) credential, and a plain page naming the refusal, its code and the request id otherwise.

import type { ErrorCode } from '../../core/errors.ts';
import { Frame } from './layout.tsx';

export interface SignInProps {
  /** Browser login is configured on this gateway. */
  readonly browserLogin: boolean;
  readonly idpName: string | null;
  /** Where the browser returns after signing in (a same-origin path; the login route checks it again). */
  readonly returnTo: string;
  /** Why the visitor sees this page (a session that ended, a refused token), or null for a plain visit. */
  readonly reason: string | null;
}

export function SignInPage(p: SignInProps) {
  return (
    <Frame title="Sign in" nav={null}>
      <div class="card signin">
        {p.reason === null ? null : <p class="notice">{p.reason}</p>}
        <p>cephgate is the front door to this Ceph cluster's API: it signs you in, applies the access policy and records every change.</p>
        {p.browserLogin ? (
          <p>
            <a class="button" href={`/gateway/login?rd=${encodeURIComponent(p.returnTo)}`}>
              Sign in with {p.idpName ?? 'your identity provider'}
            </a>
          </p>
        ) : (
          <p class="notice">
            This gateway has no browser sign-in configured. Call it with a bearer token from a trusted identity provider or with an API key; the API is
            described at <a href="/gateway/openapi.json">/gateway/openapi.json</a>.
          </p>
        )}
      </div>
    </Frame>
  );
}

export interface ErrorPageProps {
  readonly status: number;
  readonly code: ErrorCode;
  readonly detail: string;
  readonly requestId: string;
  readonly who: string | null;
}

/** What a person should read first for each refusal; the gateway's own detail text follows. */
const HEADLINES: Partial<Record<ErrorCode, string>> = {
  policy_denied: 'You are not allowed to see this page',
  policy_error: 'The access policy could not decide, so access is refused',
  csrf_failed: 'This form did not come from this gateway, so it was refused',
  not_found: 'Nothing here',
  bad_request: 'That request could not be understood',
  audit_unavailable: 'The audit log cannot be read right now',
  multiple_credentials: 'Your browser sent more than one credential',
};

export function ErrorPage(p: ErrorPageProps) {
  const headline = HEADLINES[p.code] ?? 'The gateway could not answer this request';
  return (
    <Frame title={headline} nav={null} who={p.who}>
      <div class="card">
        <p class="notice error">{p.detail}</p>
        <dl class="kv">
          <dt>Status</dt>
          <dd>{p.status}</dd>
          <dt>Code</dt>
          <dd>
            <code>{p.code}</code>
          </dd>
          <dt>Request id</dt>
          <dd>
            <code>{p.requestId}</code>
          </dd>
        </dl>
        {p.code === 'policy_denied' ? (
          <p class="muted">This attempt has been recorded in the audit log. If you need access, ask the people who maintain the gateway's policies.</p>
        ) : null}
        {p.code === 'csrf_failed' ? <p class="muted">Reload the page you came from and try again.</p> : null}
        <p>
          <a href="/gateway">Back to the start page</a>
        </p>
      </div>
    </Frame>
  );
}
