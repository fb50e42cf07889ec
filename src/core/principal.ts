// Who is calling, and the contract of the authenticators that say so (auth/).

import type { HttpMethod, RequestHeaders, RequestTarget } from './http.ts';

export type AuthMethod = 'oidc_bearer' | 'session' | 'api_key' | 'ceph_native';

/** Who is calling. Produced by the authenticator chain (auth/). */
export interface Principal {
  /** Stable id: `<issuer>#<subject>` for OIDC, `apikey:<key id>` for API keys, `ceph:<cluster>/<user>` for Ceph-native logins. */
  readonly id: string;
  readonly name: string;
  readonly email: string | null;
  readonly groups: readonly string[];
  readonly method: AuthMethod;
  readonly authenticatedAt: Date;
  /** Set when method is api_key. */
  readonly apiKeyName: string | null;
  /** Verified token claims (OIDC) or an empty object; policies may condition on them. */
  readonly claims: Readonly<Record<string, unknown>>;
  /** For ceph_native principals: the Ceph account (cluster-local user) whose token serves them. */
  readonly cephUser?: string;
}

/** What an authenticator answers (ory/oathkeeper style): not mine, ok, or a definite failure. */
export type AuthResult =
  | { readonly kind: 'skip' }
  | { readonly kind: 'ok'; readonly principal: Principal }
  | { readonly kind: 'fail'; readonly code: AuthFailureCode; readonly detail: string; readonly cause?: unknown };

export type AuthFailureCode = 'invalid_token' | 'invalid_request' | 'expired_token' | 'revoked' | 'session_expired' | 'csrf_failed';

/** What authenticators may look at: headers (lower-cased names, repeated headers kept) and the target. */
export interface AuthInput {
  readonly method: HttpMethod;
  readonly headers: RequestHeaders;
  readonly target: RequestTarget;
  readonly clientIp: string;
}

export interface Authenticator {
  readonly name: string;
  authenticate(input: AuthInput): Promise<AuthResult>;
}
