// The HTTP vocabulary every floor shares: methods and their classes, the request target as parsed
// once at intake, and the received headers (every value of a repeated header kept, never merged).

export type HttpMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'OPTIONS';

/** The one canonical parse of the request target (intake/request-target.ts). No other parser exists. */
export interface RequestTarget {
  /** The request target exactly as received (path + optional `?query`). Forwarded unchanged. */
  readonly raw: string;
  /** Raw path, still percent-encoded, without the `/clusters/<name>` prefix. Forwarded unchanged. */
  readonly rawPath: string;
  /** `rawPath` split on literal `/` (leading empty segment dropped), each segment still percent-encoded. */
  readonly segments: readonly string[];
  /** Raw query string without the `?` ("" when none). Forwarded unchanged. */
  readonly rawQuery: string;
  /** Decoded query parameters (application/x-www-form-urlencoded rules), every value kept. */
  readonly query: Readonly<Record<string, readonly string[]>>;
  /** Cluster named by a `/clusters/<name>/` prefix, or null for the default cluster. */
  readonly cluster: string | null;
}

/** Lower-cased header name -> every value received, in order (raw, never merged). */
export type RequestHeaders = ReadonlyMap<string, readonly string[]>;

/** Methods whose requests change something: audited before they are forwarded. */
export const MUTATING_METHODS: ReadonlySet<string> = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
/** Safe methods (RFC 9110 9.2.1): never change state, may be retried and need no CSRF token. */
export const SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS']);
/** The methods the gateway serves on the Ceph API. */
export const PROXIED_METHODS: readonly HttpMethod[] = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'];
