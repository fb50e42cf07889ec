// The one canonical parse of the request target. Every later stage (routing, policy, audit,
// forwarding) uses its result; no other code parses the path. Anything that two parsers could read
// differently (dot segments, empty segments, backslashes, fragments, control bytes, bad
// percent-encoding, invalid UTF-8) is refused here with 400, before any decision (docs/security.md class 1).

import { GatewayError } from '../core/errors.ts';
import type { RequestTarget } from '../core/http.ts';

/** RFC 3986 pchar minus nothing: unreserved, sub-delims, ':', '@', and '%' (checked separately). */
const PATH_CHAR = /^[A-Za-z0-9\-._~!$&'()*+,;=:@%]*$/;
/** Query characters: pchar plus '/' and '?'. */
const QUERY_CHAR = /^[A-Za-z0-9\-._~!$&'()*+,;=:@%/?]*$/;
const BAD_PERCENT = /%(?![0-9A-Fa-f]{2})/;
const CLUSTER_NAME = /^[a-z0-9][a-z0-9-]*$/;
/**
 * A `%XX` left after our one decode. Ceph's request wrapper (dashboard `_base_controller.py`,
 * `kwargs[key] = unquote(value)`) percent-decodes every path and query parameter a second time, so
 * `/api/pool/pr%256Fd` is decided as `pr%6Fd` but served as `prod`. Such values are refused.
 */
const DOUBLE_ENCODED = /%[0-9A-Fa-f]{2}/;

// ignoreBOM: keep a leading U+FEFF as Python's decode does; stripping it would decide on another name than Ceph reads.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function invalid(detail: string): GatewayError {
  return new GatewayError(400, 'invalid_path', detail);
}

/**
 * Decodes one percent-encoded component exactly once. Throws on invalid UTF-8 and on decoded
 * control bytes (NUL, CR, LF, DEL...): such values never name a Ceph resource.
 */
export function decodeComponent(raw: string, plusIsSpace = false): string {
  const text = plusIsSpace ? raw.replaceAll('+', ' ') : raw;
  if (!text.includes('%')) {
    if (/[\u0000-\u001f\u007f]/.test(text)) throw invalid('control character in request target');
    return text;
  }
  if (BAD_PERCENT.test(text)) throw invalid('malformed percent-encoding');
  const bytes = Buffer.from(
    text.replace(/%([0-9A-Fa-f]{2})/g, (_m, h: string) => String.fromCharCode(Number.parseInt(h, 16))),
    'latin1',
  );
  let decoded: string;
  try {
    decoded = utf8.decode(bytes);
  } catch {
    throw invalid('percent-encoding is not valid UTF-8');
  }
  if (/[\u0000-\u001f\u007f]/.test(decoded)) throw invalid('control character in request target');
  if (DOUBLE_ENCODED.test(decoded)) throw invalid('double percent-encoding in request target');
  return decoded;
}

/**
 * A query CherryPy reads as a server-side image map (`?12,34` becomes the arguments `x` and `y`):
 * `image_map_pattern.match` in cherrypy/lib/httputil.py, a match at the start of the query only.
 */
const IMAGE_MAP = /^[0-9]+,[0-9]+/;

/**
 * The query arguments exactly as Ceph's web server derives them (CherryPy `httputil._parse_qs`, the
 * authority; test/security/cherrypy-differential.test.ts runs it on the same inputs): pairs are split
 * on `&` AND `;`, empty pairs are skipped, a pair splits at its first `=` (no `=`: an empty value),
 * names and values are unquoted with `+` as space, repeated names collect every value in order. A
 * query CherryPy would read as an image map is refused: no Ceph handler takes `x`/`y`, and the
 * gateway does not guess what it would do with them.
 */
export function parseCephQuery(rawQuery: string): Record<string, string[]> {
  const out: Record<string, string[]> = Object.create(null) as Record<string, string[]>;
  if (rawQuery === '') return out;
  if (IMAGE_MAP.test(rawQuery))
    throw new GatewayError(400, 'ambiguous_request', 'A query that starts with digits,digits is read by Ceph as image-map coordinates; it is not accepted.');
  for (const part of rawQuery.split('&')) {
    for (const pair of part.split(';')) {
      if (pair === '') continue;
      const eq = pair.indexOf('=');
      const name = decodeComponent(eq === -1 ? pair : pair.slice(0, eq), true);
      const value = eq === -1 ? '' : decodeComponent(pair.slice(eq + 1), true);
      (out[name] ??= []).push(value);
    }
  }
  return out;
}

/** Parses `raw` (the request target as received on the wire). Throws GatewayError 400 `invalid_path`. */
export function parseRequestTarget(raw: string, maxLength = 8192): RequestTarget {
  if (raw.length === 0 || raw[0] !== '/') throw invalid('request target must be an absolute path');
  if (raw.length > maxLength) throw invalid('request target too long');
  if (raw.includes('#')) throw invalid('fragment in request target');
  const q = raw.indexOf('?');
  const fullPath = q === -1 ? raw : raw.slice(0, q);
  const rawQuery = q === -1 ? '' : raw.slice(q + 1);
  if (!QUERY_CHAR.test(rawQuery) || BAD_PERCENT.test(rawQuery)) throw invalid('invalid character in query');

  // `/clusters/<name>/` is the root of that cluster (its dashboard UI) and `/gateway/` the gateway's start
  // page: the only places a trailing slash is taken.
  const clusterRoot = fullPath.endsWith('/') && /^\/clusters\/[^/]+\/$/.test(fullPath);
  const trailingSlash = clusterRoot || fullPath === '/gateway/';
  let segments = fullPath === '/' ? [] : (trailingSlash ? fullPath.slice(1, -1) : fullPath.slice(1)).split('/');
  for (const seg of segments) {
    if (seg === '') throw invalid('empty path segment');
    if (!PATH_CHAR.test(seg)) throw invalid('invalid character in path');
    if (!seg.includes('%')) {
      // Nothing encoded: PATH_CHAR already excludes control bytes, backslashes and slashes.
      if (seg === '.' || seg === '..') throw invalid('dot segment in path');
      continue;
    }
    // Decoding validates UTF-8 and control bytes; the decoded form also reveals encoded dot segments.
    const decoded = decodeComponent(seg);
    if (decoded === '.' || decoded === '..') throw invalid('dot segment in path');
    if (decoded.includes('\\')) throw invalid('backslash in path');
    // An encoded separator followed by dots (`a%2F..`) is a traversal attempt in any parameter.
    if (decoded.split('/').some((part) => part === '.' || part === '..')) throw invalid('dot segment in path');
  }

  let cluster: string | null = null;
  if (segments[0] === 'clusters') {
    const name = segments[1];
    if (name === undefined || !CLUSTER_NAME.test(name)) throw invalid('invalid cluster name');
    if (segments.length < 3 && !clusterRoot) throw invalid('missing path after cluster name (the dashboard UI of a cluster is at /clusters/<name>/)');
    cluster = name;
    segments = segments.slice(2);
  }
  const rawPath = `/${segments.join('/')}`;
  return { raw, rawPath, segments, rawQuery, query: parseCephQuery(rawQuery), cluster };
}

/** The path and query to send upstream: exactly the bytes received, minus the cluster prefix. */
export function upstreamPathAndQuery(t: RequestTarget): string {
  return t.rawQuery === '' && !t.raw.includes('?') ? t.rawPath : `${t.rawPath}?${t.rawQuery}`;
}
