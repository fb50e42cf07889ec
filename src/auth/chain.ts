// The authenticator chain (ory/oathkeeper style): each authenticator answers skip / ok / fail, the first
// non-skip decides. One credential per request; RFC 6750 3 `WWW-Authenticate` on every 401.

import { GatewayError } from '../core/errors.ts';
import type { Authenticator, AuthInput, AuthResult, Principal } from '../core/principal.ts';
import { queryTokenParam, readAuthorization } from './credentials.ts';

export const REALM = 'cephgate';

/** The one `WWW-Authenticate` challenge (RFC 6750 §3), with the error it names when there is one. */
export function challenge(error?: 'invalid_request' | 'invalid_token'): { 'WWW-Authenticate': string } {
  return { 'WWW-Authenticate': `Bearer realm="${REALM}"${error === undefined ? '' : `, error="${error}"`}` };
}

/** An authenticator that can also say, cheaply and without verifying, whether the request carries its kind of credential. */
export interface DetectingAuthenticator extends Authenticator {
  detects?(input: AuthInput): boolean;
}

/** Maps a definite failure to the one gateway error; the library error stays in `cause` (logged, never sent). */
export function failureToError(result: Extract<AuthResult, { kind: 'fail' }>): GatewayError {
  const cause = result.cause === undefined ? {} : { cause: result.cause };
  switch (result.code) {
    case 'invalid_request':
      // RFC 6750 3.1: a malformed request is a 400, still with a challenge.
      return new GatewayError(400, 'invalid_request', result.detail, { ...cause, headers: challenge('invalid_request') });
    case 'csrf_failed':
      return new GatewayError(403, 'csrf_failed', result.detail, cause);
    default:
      return new GatewayError(401, 'invalid_token', result.detail, { ...cause, headers: challenge('invalid_token') });
  }
}

export function createAuthenticatorChain(authenticators: readonly DetectingAuthenticator[]): (input: AuthInput) => Promise<Principal> {
  return async function authenticate(input: AuthInput): Promise<Principal> {
    // The request-level rules of credentials, checked once here for every authenticator.
    if ((input.headers.get('authorization')?.length ?? 0) > 1) {
      throw new GatewayError(400, 'multiple_credentials', 'Send exactly one Authorization header.', { headers: challenge('invalid_request') });
    }
    const auth = readAuthorization(input);
    if (auth.kind === 'invalid')
      throw new GatewayError(400, 'invalid_request', 'Malformed Authorization header.', { cause: new Error(auth.why), headers: challenge('invalid_request') });
    const qp = queryTokenParam(input);
    if (qp !== null) {
      throw new GatewayError(400, 'invalid_request', 'Credentials are not accepted in the query string; use the Authorization header.', {
        cause: new Error(`query parameter ${qp}`),
        headers: challenge('invalid_request'),
      });
    }
    // Two credentials (bearer + session cookie, API key header + bearer, ...) could name two principals:
    // refuse rather than pick one (docs/security.md class 2).
    const present = authenticators.filter((a) => a.detects?.(input) === true);
    if (present.length > 1) {
      throw new GatewayError(400, 'multiple_credentials', 'Send exactly one kind of credential.', {
        cause: new Error(`credentials present: ${present.map((a) => a.name).join(', ')}`),
      });
    }
    for (const a of authenticators) {
      const result = await a.authenticate(input);
      if (result.kind === 'skip') continue;
      if (result.kind === 'ok') return result.principal;
      throw failureToError(result);
    }
    throw new GatewayError(401, 'unauthenticated', 'Authentication required.', { headers: challenge() });
  };
}
