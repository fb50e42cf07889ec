// What a configuration needs beyond its schema to serve: URLs with the schemes the gateway speaks,
// at least one cluster, a public URL for browser login, a way to authenticate at all; and warnings
// for what works but should not be left so (TLS verification off, the one-process PGlite store).

import { type ConfigProblem, error, warning } from './check-problem.ts';
import type { ConfigView } from './check-schema.ts';
import type { KeyPath } from './check-source.ts';

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** The URL's problem with its scheme, or null. `httpsOnly`: plain http only on loopback. */
function schemeProblem(path: KeyPath, url: string, what: string, httpsOnly: boolean): ConfigProblem | null {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return error(path, `${url} is not a URL`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return error(path, `${url}: ${what} must be an http:// or https:// URL (it is ${u.protocol}//)`);
  if (httpsOnly && u.protocol === 'http:' && !LOOPBACK.has(u.hostname)) return warning(path, `${url}: plain http outside loopback; ${what} should be https`);
  return null;
}

function urls(view: ConfigView): ConfigProblem[] {
  const out: (ConfigProblem | null)[] = [];
  for (const c of view.clusters) {
    c.value?.dashboards.forEach((u, j) => {
      const at = [...c.path, 'dashboards', j];
      out.push(schemeProblem(at, u, 'a dashboard', false));
      const path = URL.canParse(u) ? new URL(u).pathname : '/';
      if (path !== '/' && path !== '') out.push(warning(at, `${u}: the path ${path} is ignored; the gateway talks to the origin (one URL per mgr)`));
    });
  }
  for (const i of view.issuers) {
    if (i.value === null) continue;
    out.push(schemeProblem([...i.path, 'issuer'], i.value.issuer, 'an issuer', true));
    if (i.value.jwks_uri !== undefined) out.push(schemeProblem([...i.path, 'jwks_uri'], i.value.jwks_uri, 'a JWKS URL', true));
  }
  const publicUrl = view.section('server')?.public_url;
  if (publicUrl !== undefined) out.push(schemeProblem(['server', 'public_url'], publicUrl, 'the public URL', view.browserLogin?.enabled === true));
  return out.filter((p): p is ConfigProblem => p !== null);
}

function serving(view: ConfigView): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  if (view.clusters.length === 0) out.push(error(['ceph', 'clusters'], 'no Ceph cluster configured: serve needs at least one (docs/configuration.md, "ceph")'));
  const server = view.raw.server;
  const publicUrl = typeof server === 'object' && server !== null ? (server as { public_url?: unknown }).public_url : undefined;
  if (view.browserLogin?.enabled === true && publicUrl === undefined)
    out.push(error(['identity', 'browser_login', 'enabled'], 'browser login needs server.public_url (the URL browsers use to reach the gateway)'));
  const identity = view.section('identity');
  const native = view.clusters.some((c) => c.value?.native_login?.enabled === true);
  if (identity !== null && identity.issuers.length === 0 && !identity.api_keys.enabled && !native && view.browserLogin?.enabled !== true)
    out.push(warning(['identity'], 'no issuer, no API keys, no browser or Ceph-native login: every request will be refused (401)'));
  return out;
}

function risky(view: ConfigView): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  for (const c of view.clusters) {
    if (c.value?.tls.insecure_skip_verify === true)
      out.push(
        warning(
          [...c.path, 'tls', 'insecure_skip_verify'],
          "TLS verification towards Ceph is off: anyone on the path can collect the service accounts' passwords. Use tls.ca_file",
        ),
      );
  }
  const audit = view.section('audit');
  if (audit && audit.database_url === undefined && audit.database_url_env === undefined && audit.database_url_file === undefined)
    out.push(
      warning(
        ['audit', 'pglite_dir'],
        'the embedded PGlite store: one process only (no --workers, no second instance, CLI commands refuse while serve runs); use Postgres (DATABASE_URL) in production',
      ),
    );
  return out;
}

export function ruleProblems(view: ConfigView): ConfigProblem[] {
  return [...urls(view), ...serving(view), ...risky(view)];
}
