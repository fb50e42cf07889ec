// The one place that turns any error into a line a person can act on: what happened, taken from the
// error in the cause chain that tells (drizzle's "Failed query: <SQL>" and fetch's "fetch failed" wrap
// the one that does), where (the address, the file, the endpoint), and what to do about it.
// Used by the CLI, the config check and its probes, serve's fatal log, the mgr pool and /readyz.
// It sits in config/ (floor 1) so every floor above can use it; it only needs core/errors.ts.

import { causeChain } from '../core/errors.ts';

/** What the failing call was talking to: picks the advice (a refused database and a refused mgr differ). */
export interface ErrorContext {
  readonly service?: 'database' | 'ceph' | 'idp' | 'listener' | 'file';
  /** The URL, address or file it was trying, when the error itself does not carry it. */
  readonly endpoint?: string;
}

export interface Explained {
  /** What happened, e.g. `connection refused at 127.0.0.1:5999`. */
  readonly what: string;
  /** What to do, e.g. `is Postgres running there? Set DATABASE_URL`; null when nothing useful is known. */
  readonly todo: string | null;
  /** The `code`s along the cause chain (ECONNREFUSED, 42P01, UND_ERR_CONNECT_TIMEOUT, ...). */
  readonly codes: readonly string[];
}

type Fields = { code?: unknown; address?: unknown; port?: unknown; hostname?: unknown; path?: unknown; errors?: unknown; name?: unknown; message?: unknown };

const fieldsOf = (e: unknown): Fields => (typeof e === 'object' && e !== null ? (e as Fields) : {});
const messageOf = (e: unknown): string => {
  const m = fieldsOf(e).message;
  return typeof m === 'string' ? m : String(e);
};

/** Wrappers whose own message says nothing (and may be 2,000 characters of SQL). */
const isWrapper = (msg: string): boolean => /^Failed query:/s.test(msg) || msg === 'fetch failed' || msg === '';

/** Every error in the chain, with the members of AggregateErrors (Node's happy eyeballs tries each address). */
function errorsOf(err: unknown): unknown[] {
  const out: unknown[] = [];
  for (const e of causeChain(err, 8)) {
    out.push(e);
    const members = fieldsOf(e).errors;
    if (Array.isArray(members)) for (const m of members) out.push(...causeChain(m, 4));
  }
  return out;
}

function codesOf(all: readonly unknown[]): string[] {
  const codes: string[] = [];
  for (const e of all) {
    const c = fieldsOf(e).code;
    if (typeof c === 'string' && !codes.includes(c)) codes.push(c);
  }
  return codes;
}

/** `127.0.0.1:5999` (every address tried, once each), else the endpoint the caller named. */
function whereOf(all: readonly unknown[], code: string, ctx: ErrorContext): string {
  const seen: string[] = [];
  for (const e of all) {
    const f = fieldsOf(e);
    if (f.code !== code || typeof f.address !== 'string') continue;
    const a = f.address.includes(':') ? `[${f.address}]` : f.address;
    const at = typeof f.port === 'number' ? `${a}:${f.port}` : a;
    if (!seen.includes(at)) seen.push(at);
  }
  if (seen.length > 0) return seen.join(', ');
  return ctx.endpoint ?? 'the server';
}

const ADVICE_UNREACHABLE: Record<NonNullable<ErrorContext['service']>, string> = {
  database: 'is Postgres running there? Set DATABASE_URL (or audit.database_url_env / _file) to the right address',
  ceph: 'is the dashboard running there and reachable from this host? Check ceph.clusters[].dashboards',
  idp: 'is the identity provider reachable from this host? Check identity.issuers[].issuer',
  listener: 'check the listen address',
  file: 'check the path',
};

const ADVICE_TLS: Record<NonNullable<ErrorContext['service']>, string> = {
  database: 'put sslrootcert=<CA file> in the database URL, or fix the server certificate',
  ceph: "set ceph.clusters[].tls.ca_file to the CA that signed the dashboard's certificate",
  idp: "start the gateway with NODE_EXTRA_CA_CERTS=<CA file> for the identity provider's CA",
  listener: 'check server.tls.cert_file and key_file',
  file: 'check the certificate file',
};

const TLS_UNTRUSTED = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
]);

/** SQLSTATEs a person can do something about (Postgres appendix A; PGlite reports the same). */
function sqlState(code: string, msg: string, ctx: ErrorContext): { what: string; todo: string } | null {
  const db = ctx.endpoint ? ` (${ctx.endpoint})` : '';
  switch (code) {
    case '42P01':
      return { what: msg.replace(/"/g, ''), todo: 'run `cephgate migrate` (or set audit.migrate_on_start: true)' };
    case '3D000':
      return { what: `${msg}${db}`, todo: 'create it (createdb <name>) or fix the database name in DATABASE_URL / audit.database_url_*' };
    case '28P01':
    case '28000':
      return { what: `${msg}${db}`, todo: 'check the user and password in DATABASE_URL / audit.database_url_* (and pg_hba.conf on the server)' };
    case '57P03':
      return { what: `${msg}${db}`, todo: 'the database is starting up or shutting down; try again in a moment' };
    case '53300':
      return { what: `${msg}${db}`, todo: "too many connections: lower audit.pool_max or raise the server's max_connections" };
    case '42501':
      return { what: `${msg}${db}`, todo: "grant the gateway's database user the rights on the gateway's tables (or run `cephgate migrate` as their owner)" };
    default:
      return null;
  }
}

/** The first rule that recognises the error. */
function explainKnown(all: readonly unknown[], codes: readonly string[], ctx: ErrorContext): { what: string; todo: string | null } | null {
  const service = ctx.service ?? 'file';
  const at = (code: string) => whereOf(all, code, ctx);
  const has = (c: string) => codes.includes(c);
  const withCode = (c: string) => all.find((e) => fieldsOf(e).code === c);
  const svc = ctx.service;

  if (has('ECONNREFUSED'))
    return { what: `connection refused at ${at('ECONNREFUSED')}`, todo: svc ? ADVICE_UNREACHABLE[svc] : 'is the service running there?' };
  for (const c of ['ENOTFOUND', 'EAI_AGAIN']) {
    if (!has(c)) continue;
    const host = fieldsOf(withCode(c)).hostname;
    const name = typeof host === 'string' ? host : (ctx.endpoint ?? 'the host');
    return {
      what: c === 'ENOTFOUND' ? `cannot resolve host name ${name}` : `the DNS lookup of ${name} failed for now (EAI_AGAIN)`,
      todo: svc ? `check the host name; ${ADVICE_UNREACHABLE[svc]}` : 'check the host name',
    };
  }
  for (const c of ['ETIMEDOUT', 'UND_ERR_CONNECT_TIMEOUT']) {
    if (has(c)) return { what: `timed out connecting to ${at(c)}`, todo: `is a firewall dropping the connection?${svc ? ` ${ADVICE_UNREACHABLE[svc]}` : ''}` };
  }
  for (const c of ['EHOSTUNREACH', 'ENETUNREACH']) {
    if (has(c)) return { what: `no route to ${at(c)}`, todo: svc ? ADVICE_UNREACHABLE[svc] : null };
  }
  if (has('ECONNRESET') || has('UND_ERR_SOCKET'))
    return {
      what: `the connection to ${ctx.endpoint ?? at('ECONNRESET')} was closed by the other side`,
      todo: svc === 'ceph' ? 'does the dashboard speak https (then use https://) or plain http (http://)?' : null,
    };
  if (has('ERR_SSL_WRONG_VERSION_NUMBER') || has('EPROTO'))
    return { what: `${ctx.endpoint ?? 'the server'} does not speak TLS`, todo: 'use http:// for it, or turn on its TLS' };
  const untrusted = codes.find((c) => TLS_UNTRUSTED.has(c));
  if (untrusted !== undefined)
    return {
      what: `the TLS certificate of ${ctx.endpoint ?? 'the server'} is not trusted (${untrusted})`,
      todo: ADVICE_TLS[service],
    };
  if (has('ERR_TLS_CERT_ALTNAME_INVALID'))
    return {
      what: `the TLS certificate of ${ctx.endpoint ?? 'the server'} is not valid for that host name`,
      todo: 'use the host name the certificate was issued for',
    };
  if (has('CERT_HAS_EXPIRED') || has('CERT_NOT_YET_VALID'))
    return { what: `the TLS certificate of ${ctx.endpoint ?? 'the server'} has expired or is not valid yet`, todo: 'renew it (or fix the clock)' };
  if (has('UND_ERR_HEADERS_TIMEOUT') || has('UND_ERR_BODY_TIMEOUT'))
    return { what: `${ctx.endpoint ?? 'the server'} did not answer in time`, todo: svc === 'ceph' ? 'is the mgr overloaded or hung?' : null };
  for (const c of ['ENOENT', 'EACCES', 'EPERM', 'EISDIR', 'ENOTDIR']) {
    if (!has(c)) continue;
    const p = fieldsOf(withCode(c)).path;
    const path = typeof p === 'string' ? p : (ctx.endpoint ?? 'the file');
    const what = {
      ENOENT: `no such file or directory: ${path}`,
      EACCES: `permission denied: ${path}`,
      EPERM: `operation not permitted: ${path}`,
      EISDIR: `${path} is a directory, not a file`,
      ENOTDIR: `a part of ${path} is not a directory`,
    }[c] as string;
    const uid = typeof process.getuid === 'function' ? ` (the gateway runs as uid ${process.getuid()})` : '';
    return { what, todo: c === 'ENOENT' || c === 'ENOTDIR' ? 'check the path' : `make it readable by the gateway${uid}` };
  }
  if (has('EADDRINUSE'))
    return { what: `${at('EADDRINUSE')} is already in use`, todo: 'another process listens there (another cephgate?): stop it or change the port' };
  if (has('EADDRNOTAVAIL')) return { what: `${at('EADDRNOTAVAIL')} is not an address of this host`, todo: 'check the listen host' };
  for (const c of codes) {
    if (!/^[0-9A-Z]{5}$/.test(c)) continue;
    const e = withCode(c);
    const known = sqlState(c, messageOf(e), ctx);
    if (known !== null) return known;
  }
  return null;
}

/** PGlite's WASM build dies with `Aborted()` when its directory is unusable, most often because another process has it open. */
function pgliteAborted(all: readonly unknown[]): boolean {
  return all.some((e) => /^Aborted\(/.test(messageOf(e)));
}

export function explainError(err: unknown, ctx: ErrorContext = {}): Explained {
  const all = errorsOf(err);
  const codes = codesOf(all);
  const known = explainKnown(all, codes, ctx);
  if (known !== null) return { ...known, codes };
  if (pgliteAborted(all))
    return {
      what: `the embedded PGlite database${ctx.endpoint ? ` in ${ctx.endpoint}` : ''} could not be opened (Aborted())`,
      todo: "is another process using it (a running `cephgate serve`)? PGlite is one process's database: stop that process first, or use Postgres (DATABASE_URL)",
      codes,
    };
  if (all.some((e) => ['TimeoutError', 'AbortError'].includes(String(fieldsOf(e).name))))
    return { what: `${ctx.endpoint ?? 'the server'} did not answer in time`, todo: null, codes };
  // Unknown: the messages of the chain that say something, outermost first, each once.
  const parts: string[] = [];
  for (const e of all) {
    const m = messageOf(e).split('\n')[0]?.trim() ?? '';
    if (isWrapper(m) || parts.some((p) => p.includes(m))) continue;
    parts.push(m);
  }
  return { what: parts.join(': ') || String(err), todo: null, codes };
}

/** `what: todo` on one line, e.g. `connection refused at 127.0.0.1:5999: is Postgres running there? Set DATABASE_URL ...`. */
export function describeError(err: unknown, ctx: ErrorContext = {}): string {
  const e = explainError(err, ctx);
  return e.todo === null ? e.what : `${e.what}: ${e.todo}`;
}
