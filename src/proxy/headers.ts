// Pure header rewrites between client, gateway and Ceph. Requests: an allow-list of client headers
// passes (identity material, forwarding headers, hop-by-hop headers and anything with `_` never
// do), then the gateway adds its own forwarding headers and request id. Responses: hop-by-hop,
// Connection-listed, Set-Cookie (Ceph's `token` cookie) and server fingerprints are removed.

import type { RequestHeaders } from '../core/http.ts';

/** RFC 9110 §7.6.1 hop-by-hop headers, plus the de-facto ones proxies also drop. */
export const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/**
 * Client headers that may reach Ceph. Everything else is dropped: Authorization, Cookie and
 * X-Access-Token (Ceph reads its token from them, docs/ceph-facts.md), X-Forwarded-*, Forwarded,
 * X-Original-URL, and names with `_` that WSGI would fold into the same variable.
 * Accept and Content-Length are set by the gateway, never copied.
 */
const CLIENT_ALLOWED = new Set([
  'content-type',
  'user-agent',
  'accept-language',
  'traceparent',
  'tracestate',
  'if-match',
  'if-none-match',
  'if-modified-since',
]);

/** Names listed in the Connection header(s), which are hop-by-hop for this message (RFC 9110 §7.6.1). */
export function connectionListed(values: readonly string[] | undefined): Set<string> {
  const out = new Set<string>();
  for (const v of values ?? []) for (const name of v.split(',')) if (name.trim()) out.add(name.trim().toLowerCase());
  return out;
}

export interface ForwardingContext {
  readonly requestId: string;
  /** Client address as trusted (see intake/trusted-proxies.ts). */
  readonly clientIp: string;
  /** Peer is a trusted proxy: keep the X-Forwarded-For chain it sent. */
  readonly fromTrustedProxy: boolean;
  /** Scheme and host the client used (the gateway's own when the peer is not trusted). */
  readonly proto: 'http' | 'https';
  readonly host: string;
}

/** Header values must never carry CR/LF/NUL into upstream requests. */
function safeValue(v: string): boolean {
  return !/[\r\n\0]/.test(v);
}

/** Builds the upstream request headers from the client's. Pure. */
export function upstreamRequestHeaders(client: RequestHeaders, ctx: ForwardingContext): Record<string, string | string[]> {
  const listed = connectionListed(client.get('connection'));
  const out: Record<string, string | string[]> = {};
  for (const [name, values] of client) {
    if (!CLIENT_ALLOWED.has(name) || listed.has(name) || HOP_BY_HOP.has(name)) continue;
    const kept = values.filter(safeValue);
    if (kept.length === 0) continue;
    out[name] = kept.length === 1 ? (kept[0] as string) : kept;
  }
  const priorXff = ctx.fromTrustedProxy ? (client.get('x-forwarded-for') ?? []).filter(safeValue).join(', ') : '';
  out['x-forwarded-for'] = priorXff ? `${priorXff}, ${ctx.clientIp}` : ctx.clientIp;
  out['x-forwarded-proto'] = ctx.proto;
  out['x-forwarded-host'] = ctx.host;
  const forAddr = ctx.clientIp.includes(':') ? `"[${ctx.clientIp}]"` : ctx.clientIp;
  out.forwarded = `for=${forAddr};proto=${ctx.proto}`;
  out['x-request-id'] = ctx.requestId;
  return out;
}

/** Response headers never passed to the client. */
const RESPONSE_DROPPED = new Set(['set-cookie', 'server', 'x-powered-by', 'content-length']);

/**
 * Filters upstream response headers. Content-Length is dropped and re-set by the caller only when
 * the body is passed through unchanged.
 */
export function clientResponseHeaders(upstream: Record<string, string | string[] | undefined>): Record<string, string | string[]> {
  const listedRaw = upstream.connection;
  const listed = connectionListed(listedRaw === undefined ? undefined : Array.isArray(listedRaw) ? listedRaw : [listedRaw]);
  const out: Record<string, string | string[]> = {};
  for (const name in upstream) {
    const value = upstream[name];
    if (value === undefined) continue;
    const n = name.toLowerCase();
    if (HOP_BY_HOP.has(n) || listed.has(n) || RESPONSE_DROPPED.has(n)) continue;
    out[n] = value;
  }
  return out;
}
