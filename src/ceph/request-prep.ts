// Pure rewrites of a request on its way to Ceph and of the answer on its way back: credential, Accept,
// Content-Length, login-body `ttl`, and the response headers a client must never see.

import { type HttpMethod, MUTATING_METHODS } from '../core/http.ts';
import { parseCephMediaType } from './versions.ts';

/** Headers Ceph reads a token from (docs/ceph-facts.md: `token` cookie first, then Bearer; X-Access-Token in OAuth2 mode). */
const IDENTITY = new Set(['authorization', 'cookie', 'x-access-token', 'accept', 'content-length']);

export function upstreamHeaders(
  base: Record<string, string | string[]>,
  o: { readonly method: HttpMethod; readonly accept: string; readonly token: string | null; readonly body: Buffer | null },
): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  // Defence in depth: the lead's header filter already drops these; a client credential must never reach Ceph.
  for (const name in base) if (!IDENTITY.has(name.toLowerCase())) out[name] = base[name] as string | string[];
  out.accept = o.accept;
  if (o.token !== null) out.authorization = `Bearer ${o.token}`;
  // A body-less POST without Content-Length gets 411 from cherrypy (docs/ceph-facts.md).
  if (o.body !== null) out['content-length'] = String(o.body.length);
  else if (MUTATING_METHODS.has(o.method)) out['content-length'] = '0';
  return out;
}

/**
 * Removes `ttl` from a JSON login body: Tentacle lets the client choose its token lifetime, Pacific answers
 * 500 to the unknown field (docs/ceph-facts.md). Non-JSON or non-object bodies are passed unchanged (Ceph refuses them).
 */
export function stripLoginTtl(body: Buffer | null): Buffer | null {
  if (body === null || body.length === 0) return body;
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return body;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed) || !('ttl' in parsed)) return body;
  const { ttl: _ttl, ...rest } = parsed as Record<string, unknown>;
  return Buffer.from(JSON.stringify(rest));
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
/**
 * A standby's answer to an API request: a redirect, or (while no mgr is active) a 2xx HTML page. The
 * dashboard's `/api` and `/ui-api` handlers never answer HTML, so that cannot be a real answer.
 */
export function isStandbyAnswer(path: string, status: number, headers: Record<string, string | string[]>): boolean {
  if (REDIRECTS.has(status)) return true;
  if (status < 200 || status >= 300 || !/^\/(api|ui-api)(\/|\?|$)/.test(path)) return false;
  const ct = headers['content-type'] ?? headers['Content-Type'];
  return /^text\/html/i.test(String(Array.isArray(ct) ? ct[0] : (ct ?? '')));
}

/**
 * Ceph's answer headers as the gateway passes them on, in one pass (a copy): never `Set-Cookie` (Ceph's
 * `token=` cookie would hand the client the gateway's Ceph token), and for a plain-JSON client a Ceph
 * media type Content-Type becomes `application/json` (Ceph labels success bodies with the endpoint's own
 * version, docs/ceph-facts.md).
 */
export function cephAnswerHeaders(headers: Record<string, string | string[]>, plainJson: boolean): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const name in headers) {
    const value = headers[name] as string | string[];
    const lower = name.toLowerCase();
    if (lower === 'set-cookie') continue;
    if (plainJson && lower === 'content-type') {
      const v = Array.isArray(value) ? value[0] : value;
      out[name] = v !== undefined && parseCephMediaType(v) !== null ? 'application/json' : value;
    } else out[name] = value;
  }
  return out;
}
