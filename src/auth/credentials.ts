// Reading credentials out of a request, once and strictly (docs/security.md class 2): exactly one
// `Authorization` header with one scheme, cookies by exact name, and tokens in the query string refused.

import type { RequestHeaders } from '../core/http.ts';
import type { AuthInput, AuthResult } from '../core/principal.ts';

/** RFC 6750 2.1: `Bearer 1*SP b64token`; b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=". */
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*)$/i;

export type AuthorizationHeader =
  | { readonly kind: 'none' }
  | { readonly kind: 'invalid'; readonly why: string }
  | { readonly kind: 'bearer'; readonly token: string }
  | { readonly kind: 'other'; readonly scheme: string };

const NONE: AuthorizationHeader = { kind: 'none' };

/**
 * Parsed once per request: the chain asks every authenticator whether it sees its kind of credential,
 * then one of them reads it again (four or five parses of a ~1 kB token otherwise). Keyed by the
 * request's own list of values, which intake builds once and nothing changes afterwards.
 */
const parsed = new WeakMap<readonly string[], AuthorizationHeader>();

/** The one `Authorization` header: several headers or a folded list (`Bearer a, Basic b`) are invalid. */
export function readAuthorization(input: AuthInput): AuthorizationHeader {
  const values = input.headers.get('authorization');
  if (values === undefined || values.length === 0) return NONE;
  let result = parsed.get(values);
  if (result === undefined) {
    result = parseAuthorization(values);
    parsed.set(values, result);
  }
  return result;
}

function parseAuthorization(values: readonly string[]): AuthorizationHeader {
  if (values.length > 1) return { kind: 'invalid', why: 'more than one Authorization header' };
  const value = (values[0] as string).trim();
  const m = BEARER.exec(value);
  if (m !== null) return { kind: 'bearer', token: m[1] as string };
  if (/^Bearer(\s|$)/i.test(value)) return { kind: 'invalid', why: 'malformed Bearer credentials' };
  const scheme = /^([A-Za-z0-9!#$%&'*+.^_`|~-]+)(?: +[^,]*)?$/.exec(value);
  if (scheme === null) return { kind: 'invalid', why: 'malformed Authorization header' };
  return { kind: 'other', scheme: (scheme[1] as string).toLowerCase() };
}

/** Query parameters that carry a token (RFC 6750 2.3 is refused outright: URLs end up in logs). */
const QUERY_TOKEN_PARAMS = ['access_token', 'id_token', 'token', 'api_key'];

export function queryTokenParam(input: AuthInput): string | null {
  for (const p of QUERY_TOKEN_PARAMS) if (input.target.query[p] !== undefined) return p;
  return null;
}

/** Every value of cookie `name` over all `Cookie` headers (RFC 6265 5.4); several values are suspicious. */
export function readCookie(headers: RequestHeaders, name: string): string[] {
  const found: string[] = [];
  for (const header of headers.get('cookie') ?? []) {
    for (const pair of header.split(';')) {
      const eq = pair.indexOf('=');
      if (eq < 0) continue;
      if (pair.slice(0, eq).trim() === name) found.push(pair.slice(eq + 1).trim());
    }
  }
  return found;
}

/** Failure results with fixed, non-revealing detail text. */
export const fail = {
  request: (detail: string, cause?: unknown): AuthResult => ({ kind: 'fail', code: 'invalid_request', detail, ...(cause === undefined ? {} : { cause }) }),
  token: (cause?: unknown): AuthResult => ({
    kind: 'fail',
    code: 'invalid_token',
    detail: 'The access token is invalid.',
    ...(cause === undefined ? {} : { cause }),
  }),
  expired: (cause?: unknown): AuthResult => ({
    kind: 'fail',
    code: 'expired_token',
    detail: 'The access token has expired.',
    ...(cause === undefined ? {} : { cause }),
  }),
};
