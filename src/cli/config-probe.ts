// `cephgate config check --probe`: reaches what the configuration names, as serve will, and says for
// each what it found or why it could not (config/check-explain.ts): every dashboard (active mgr or
// standby, the Ceph release), every identity provider (discovery, JWKS), the database (reachable,
// migrations applied). No login is tried: a wrong password would count towards Ceph's lock-out.

import { existsSync } from 'node:fs';
import { sql } from 'drizzle-orm';
import type { Dispatcher } from 'undici';
import { discoverJwksUri } from '../auth/jwks.ts';
import { isActiveAnswer } from '../ceph/mgr-pool.ts';
import { detectRelease } from '../ceph/release.ts';
import type { ClusterConfig } from '../config/ceph.ts';
import { describeError } from '../config/check-explain.ts';
import type { ConfigView } from '../config/check-schema.ts';
import type { KeyPath } from '../config/check-source.ts';
import { databaseLabel, holdPglite, PgliteInUseError } from '../config/database-url.ts';
import type { IssuerConfig } from '../config/identity.ts';
import type { Config } from '../config/schema.ts';
import { readSecret, secretRefOf } from '../config/secrets.ts';
import { openDatabase } from '../db/database.ts';
import { appliedMigrations, shippedMigrations } from '../db/migrate.ts';
import { createDispatcher } from '../proxy/forward.ts';

export interface ProbeResult {
  readonly status: 'ok' | 'warning' | 'error';
  /** The key of what was probed, e.g. ['ceph', 'clusters', 0, 'dashboards', 1]. */
  readonly path: KeyPath;
  readonly message: string;
}

const ok = (path: KeyPath, message: string): ProbeResult => ({ status: 'ok', path, message });
const bad = (path: KeyPath, message: string): ProbeResult => ({ status: 'error', path, message });

/** One anonymous GET /api/health/minimal (what the mgr pool asks): 401 from the active mgr, a redirect or an error from a standby. */
async function probeDashboard(dispatcher: Dispatcher, url: string, timeoutMs: number): Promise<{ active: boolean; text: string }> {
  const res = await dispatcher.request({
    origin: new URL(url).origin,
    path: '/api/health/minimal',
    method: 'GET',
    headers: { accept: 'application/vnd.ceph.api.v1.0+json' },
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
    signal: AbortSignal.timeout(timeoutMs),
  });
  await res.body.dump();
  if (isActiveAnswer(res.statusCode)) return { active: true, text: 'the active mgr' };
  const loc = res.headers.location;
  if (loc !== undefined) return { active: false, text: `a standby mgr (answered ${res.statusCode}, redirecting to ${Array.isArray(loc) ? loc[0] : loc})` };
  return { active: false, text: `answered ${res.statusCode}: a standby mgr (standby_behaviour error), or not a Ceph dashboard` };
}

async function probeCluster(c: ClusterConfig, base: KeyPath): Promise<ProbeResult[]> {
  let dispatcher: Dispatcher;
  try {
    dispatcher = createDispatcher({ connectTimeoutMs: c.timeouts.connect_ms, caFile: c.tls.ca_file, insecureSkipVerify: c.tls.insecure_skip_verify });
  } catch (err) {
    return [bad([...base, 'tls', 'ca_file'], `cluster ${c.name}: ${describeError(err, { service: 'file', endpoint: c.tls.ca_file ?? '' })}`)];
  }
  const timeoutMs = Math.max(c.failover.probe_timeout_ms, 5000);
  try {
    const seen = await Promise.all(
      c.dashboards.map(async (url, j) => {
        const at = [...base, 'dashboards', j];
        try {
          const r = await probeDashboard(dispatcher, url, timeoutMs);
          if (!r.active) return { active: null, result: ok(at, `cluster ${c.name}: ${url}: ${r.text}`) };
          const release = await detectRelease(url, { dispatcher, timeoutMs: 10_000 }).then(
            (found) => (c.release === 'auto' || c.release === found ? { text: `, Ceph release ${found}` } : { mismatch: found }),
            (err: unknown) => ({ text: `; release not detected: ${describeError(err, { service: 'ceph', endpoint: url })}` }),
          );
          if ('mismatch' in release)
            return {
              active: url,
              result: bad([...base, 'release'], `cluster ${c.name}: ${url} runs ${release.mismatch}, the configuration says ${c.release}`),
            };
          return { active: url, result: ok(at, `cluster ${c.name}: ${url}: the active mgr${release.text}`) };
        } catch (err) {
          return { active: null, result: bad(at, `cluster ${c.name}: ${url}: ${describeError(err, { service: 'ceph', endpoint: url })}`) };
        }
      }),
    );
    const out = seen.map((s) => s.result);
    if (!seen.some((s) => s.active !== null))
      out.push(bad([...base, 'dashboards'], `cluster ${c.name}: no active mgr answers among ${c.dashboards.length} dashboard(s)`));
    return out;
  } finally {
    await dispatcher.close();
  }
}

async function probeIssuer(i: IssuerConfig, base: KeyPath): Promise<ProbeResult> {
  const where = `issuer ${i.name} (${i.issuer})`;
  let jwksUri: URL;
  try {
    jwksUri = i.jwks_uri !== undefined ? new URL(i.jwks_uri) : await discoverJwksUri(i.issuer, fetch, i.http_timeout_ms);
  } catch (err) {
    return bad(
      [...base, 'issuer'],
      `${where}: discovery failed: ${describeError(err, { service: 'idp', endpoint: `${i.issuer}/.well-known/openid-configuration` })}`,
    );
  }
  try {
    const res = await fetch(jwksUri, { signal: AbortSignal.timeout(i.http_timeout_ms), redirect: 'error', headers: { accept: 'application/json' } });
    if (res.status !== 200) return bad([...base, 'jwks_uri'], `${where}: ${jwksUri} answered ${res.status}`);
    const keys = ((await res.json()) as { keys?: { alg?: string; kty?: string; use?: string }[] }).keys ?? [];
    const algs = new Set<string>(i.algorithms);
    const usable = keys.filter((k) => k.use !== 'enc' && (k.alg === undefined || algs.has(k.alg)));
    if (usable.length === 0)
      return bad(
        [...base, 'algorithms'],
        `${where}: the JWKS at ${jwksUri} has ${keys.length} key(s), none for the accepted algorithms ${i.algorithms.join(', ')}`,
      );
    const named = [...new Set(usable.map((k) => k.alg ?? k.kty ?? '?'))].join(', ');
    return ok([...base, 'issuer'], `${where}: discovery and JWKS answer (${usable.length} signing key(s): ${named})`);
  } catch (err) {
    return bad([...base, 'jwks_uri'], `${where}: JWKS: ${describeError(err, { service: 'idp', endpoint: String(jwksUri) })}`);
  }
}

async function probeDatabase(audit: Config['audit'], env: NodeJS.ProcessEnv): Promise<ProbeResult> {
  const path = ['audit'];
  const postgres = audit.database_url !== undefined || audit.database_url_env !== undefined || audit.database_url_file !== undefined;
  const url = postgres ? readSecret(secretRefOf(audit as Record<string, unknown>, 'database_url'), env) : null;
  if (url !== null && !url.ok) return bad(path, `database: not probed: ${url.reason}`);
  const loc = url?.ok ? { url: url.value } : { pgliteDir: audit.pglite_dir };
  const where = databaseLabel(loc);
  let hold: { release(): void } | null = null;
  if ('pgliteDir' in loc && !existsSync(loc.pgliteDir))
    return ok(path, `database: ${where}: does not exist yet; serve creates it and applies the ${shippedMigrations()} migrations`);
  try {
    if ('pgliteDir' in loc) hold = holdPglite(loc.pgliteDir, 'config check');
    const d = await openDatabase({ ...loc, connectTimeoutMs: 5000, poolMax: 1 });
    try {
      await d.db.execute(sql`select 1`);
      const applied = await appliedMigrations(d);
      const shipped = shippedMigrations();
      if (applied >= shipped) return ok(path, `database: ${where}: reachable, ${shipped} of ${shipped} migrations applied`);
      const missing = `${shipped - applied} of ${shipped} migrations not applied yet`;
      return audit.migrate_on_start
        ? ok(path, `database: ${where}: reachable, ${missing} (serve applies them at start-up)`)
        : bad(path, `database: ${where}: ${missing}: run \`cephgate migrate\``);
    } finally {
      await d.close();
    }
  } catch (err) {
    if (err instanceof PgliteInUseError)
      return ok(path, `database: ${where}: in use by \`cephgate ${err.holder.command}\` (pid ${err.holder.pid}); not opened`);
    return bad(path, `database: ${where}: ${describeError(err, { service: 'database', endpoint: where })}`);
  } finally {
    hold?.release();
  }
}

/** Every probe at once (they are independent); results in configuration order. */
export async function probeAll(view: ConfigView, env: NodeJS.ProcessEnv): Promise<ProbeResult[]> {
  const audit = view.section('audit');
  const groups = await Promise.all([
    audit ? probeDatabase(audit, env).then((r) => [r]) : Promise.resolve([]),
    ...view.clusters.map((c) => (c.value ? probeCluster(c.value, c.path) : Promise.resolve([]))),
    ...view.issuers.map((i) => (i.value ? probeIssuer(i.value, i.path).then((r) => [r]) : Promise.resolve([]))),
  ]);
  return groups.flat();
}
