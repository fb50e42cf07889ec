// `cephgate config check [--probe]` as an operator runs it (issue 18, items 3 and 4): the configuration
// that took seven restarts of `serve` (test/fixtures/seven-restarts) reported whole in one run, each
// problem at its line or variable; the minimal example's missing CA file named as that; and --probe
// reaching stand-ins for two mgrs (active, standby), a dead mgr, an identity provider and a database
// that is not there, saying for each what it found or why not.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { loadCatalogue } from '../../src/ceph/catalogue.ts';

const ROOT = process.cwd();
const TSX = import.meta.resolve('tsx');

function withoutConfig(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { CEPHGATE_CONFIG: _c, DATABASE_URL: _d, ...rest } = env;
  return rest;
}

function cli(args: string[], env: NodeJS.ProcessEnv = {}, cwd = ROOT): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', TSX, join(ROOT, 'src', 'cli.ts'), ...args],
      { env: { ...withoutConfig(process.env), ...env }, cwd, timeout: 120_000 },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

const has = (out: string, re: RegExp) => assert.match(out, re, `${re} not in:\n${out}`);

describe('the seven-restart configuration', () => {
  test('config check reports every one of its problems in one run, each at its line or variable (item 3)', async () => {
    const r = await cli(
      ['config', 'check'],
      { CEPHGATE__LIMITS__MAX_BODY_BYTES: '-1', SEVEN_SESSION_KEY: Buffer.alloc(16, 7).toString('base64') },
      join(ROOT, 'test/fixtures/seven-restarts'),
    );
    assert.equal(r.code, 1, r.stdout + r.stderr);
    const out = r.stdout;
    // 1. the schema, with lines, and the override blamed on its variable
    has(out, /^cephgate\.yaml:7: error: server\.trusted_proxy: unknown key/m);
    has(out, /^cephgate\.yaml:9: error: logging\.level: /m);
    has(out, /^\$CEPHGATE__LIMITS__MAX_BODY_BYTES: error: limits\.max_body_bytes: /m);
    // 2. references between keys
    has(out, /^cephgate\.yaml:11: error: ceph\.default_cluster: no cluster named prod/m);
    has(out, /^cephgate\.yaml:20: error: ceph\.clusters\[0\]\.default_account: no account named admin/m);
    // 3. what made release detection fail: the CA file; and the dashboard that is not http(s)
    has(out, /^cephgate\.yaml:16: error: ceph\.clusters\[0\]\.tls\.ca_file: no such file or directory: \.\/ceph-ca\.pem/m);
    has(
      out,
      /^cephgate\.yaml:14: error: ceph\.clusters\[0\]\.dashboards\[0\]: ftp:\/\/mgr-a\.storage\.internal:8443: a dashboard must be an http:\/\/ or https:\/\/ URL/m,
    );
    // 4. policies, at their own file and line
    has(out, /^policies\/team-a\.yaml:8: error: policy\.dir: rule team-a-pools: unknown Ceph account admin in cluster main/m);
    // 5. browser login without a public URL
    has(out, /^cephgate\.yaml:27: error: identity\.browser_login\.enabled: browser login needs server\.public_url/m);
    // 6. every missing secret, not one per restart
    has(out, /^cephgate\.yaml:18: error: ceph\.clusters\[0\]\.accounts\[0\]\.password_env: environment variable SEVEN_PW_READER is not set/m);
    has(out, /^cephgate\.yaml:19: error: ceph\.clusters\[0\]\.accounts\[1\]\.password_env: environment variable SEVEN_PW_OPERATOR is not set/m);
    has(out, /^cephgate\.yaml:30: error: identity\.browser_login\.client_secret_env: environment variable SEVEN_OIDC_SECRET is not set/m);
    // 7. the key that is not 32 bytes, named
    has(
      out,
      /^cephgate\.yaml:32: error: identity\.sessions\.encryption_key_env: the encryption_key from environment variable SEVEN_SESSION_KEY must be 32 bytes/m,
    );
    // item 4's duplicate account name
    has(out, /^cephgate\.yaml:19: error: ceph\.clusters\[0\]\.accounts\[1\]\.name: duplicate account name reader in cluster main/m);
    has(out, /^14 error\(s\), 1 warning\(s\): serve refuses to start with this configuration/m);
  });

  test('serve refuses to start on it with the same list, in its JSON log, exit 2 (item 4)', async () => {
    const r = await cli(['serve'], { CEPHGATE__LIMITS__MAX_BODY_BYTES: '-1' }, join(ROOT, 'test/fixtures/seven-restarts'));
    assert.equal(r.code, 2);
    assert.equal(r.stderr, '');
    const fatal = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { level: number; problems?: string[] })
      .find((l) => l.level === 60);
    assert.ok(fatal?.problems, r.stdout);
    assert.ok(fatal.problems.length >= 14, fatal.problems.join('\n'));
    assert.ok(fatal.problems.some((p) => p.includes('environment variable SEVEN_PW_READER is not set')));
  });
});

describe('the minimal example', () => {
  test('its missing CA file is named as that, by config check and by serve (item 4)', async () => {
    const env = { CEPH_PW_READER: 'r', CEPH_PW_OPERATOR: 'o', CEPH_PW_ADMIN: 'a' };
    const check = await cli(['config', 'check', '--config', 'examples/cephgate.minimal.yaml'], env);
    has(
      check.stdout,
      /^examples\/cephgate\.minimal\.yaml:\d+: error: ceph\.clusters\[0\]\.tls\.ca_file: no such file or directory: \/etc\/cephgate\/ceph-ca\.pem: check the path/m,
    );
    const serve = await cli(['serve', '--config', 'examples/cephgate.minimal.yaml'], env);
    assert.equal(serve.code, 2);
    has(serve.stdout, /ceph\.clusters\[0\]\.tls\.ca_file: no such file or directory: \/etc\/cephgate\/ceph-ca\.pem/);
    assert.doesNotMatch(serve.stdout, /cannot detect the Ceph release/);
  });
});

describe('config check --probe', () => {
  const servers: Server[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'cephgate-probe-'));
  let active = '';
  let standby = '';
  let dead = '';
  let idp = '';

  async function serve(handler: Parameters<typeof createServer>[1]): Promise<string> {
    const s = createServer(handler);
    servers.push(s);
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
  }

  before(async () => {
    // The active mgr: 401 to an anonymous probe, and Reef's API at /docs/openapi.json.
    const paths: Record<string, Record<string, object>> = {};
    for (const op of loadCatalogue('reef').operations) (paths[op.template] ??= {})[op.method.toLowerCase()] = {};
    active = await serve((req, res) => {
      if (req.url === '/docs/openapi.json') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ openapi: '3.0.0', paths }));
        return;
      }
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end('{"detail":"not authorized"}');
    });
    standby = await serve((_req, res) => {
      res.writeHead(303, { location: `${active}/api/health/minimal` });
      res.end();
    });
    // A port nothing listens on any more.
    dead = await serve(() => undefined);
    await new Promise<void>((r) => (servers.pop() as Server).close(() => r()));
    const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const jwk = { ...publicKey.export({ format: 'jwk' }), kid: 'k1', alg: 'RS256', use: 'sig' };
    idp = await serve((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      if (req.url === '/.well-known/openid-configuration') res.end(JSON.stringify({ issuer: idp, jwks_uri: `${idp}/jwks` }));
      else res.end(JSON.stringify({ keys: [jwk] }));
    });
    mkdirSync(join(dir, 'policies'));
    writeFileSync(join(dir, 'policies', 'empty.yaml'), 'rules: []\n');
    writeFileSync(
      join(dir, 'cephgate.yaml'),
      [
        'ceph:',
        '  clusters:',
        '    - name: main',
        `      dashboards: [${standby}, ${active}]`,
        '    - name: gone',
        `      dashboards: [${dead}]`,
        '      release: reef',
        'identity:',
        `  issuers: [{ name: corp, issuer: "${idp}", audiences: [cg] }]`,
        `policy: { dir: ${join(dir, 'policies')} }`,
        'audit: { database_url_env: PROBE_DB }',
        '',
      ].join('\n'),
    );
  });

  after(async () => {
    await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
    rmSync(dir, { recursive: true, force: true });
  });

  test('reports each dashboard, the identity provider and the database, with the cause of each failure', async () => {
    const r = await cli(['config', 'check', '--probe', '--config', join(dir, 'cephgate.yaml')], { PROBE_DB: 'postgres://cg@127.0.0.1:1/cephgate' });
    assert.equal(r.code, 1, r.stdout + r.stderr);
    const out = r.stdout;
    has(out, new RegExp(`^probe: ok: ceph\\.clusters\\[0\\]\\.dashboards\\[1\\]: cluster main: ${active}: the active mgr, Ceph release reef$`, 'm'));
    has(
      out,
      new RegExp(
        `^probe: ok: ceph\\.clusters\\[0\\]\\.dashboards\\[0\\]: cluster main: ${standby}: a standby mgr \\(answered 303, redirecting to ${active}`,
        'm',
      ),
    );
    has(
      out,
      new RegExp(
        `^probe: error: ceph\\.clusters\\[1\\]\\.dashboards\\[0\\]: cluster gone: ${dead}: connection refused at 127\\.0\\.0\\.1:\\d+: is the dashboard running there`,
        'm',
      ),
    );
    has(out, /^probe: error: ceph\.clusters\[1\]\.dashboards: cluster gone: no active mgr answers among 1 dashboard\(s\)$/m);
    has(out, /^probe: ok: identity\.issuers\[0\]\.issuer: issuer corp .*discovery and JWKS answer \(1 signing key\(s\): RS256\)$/m);
    has(
      out,
      /^probe: error: audit: database: postgres 127\.0\.0\.1:1\/cephgate: connection refused at 127\.0\.0\.1:1: is Postgres running there\? Set DATABASE_URL/m,
    );
    assert.doesNotMatch(out, /cg@/, 'the database URL is named without its user or password');
  });

  test('--json gives the same as one document', async () => {
    const r = await cli(['config', 'check', '--probe', '--json', '--config', join(dir, 'cephgate.yaml')], { PROBE_DB: 'postgres://cg@127.0.0.1:1/cephgate' });
    const doc = JSON.parse(r.stdout) as { errors: number; problems: unknown[]; probes: { status: string; key: string }[] };
    assert.deepEqual(doc.problems, []);
    assert.equal(doc.errors, 3);
    assert.deepEqual(
      doc.probes.filter((p) => p.status === 'error').map((p) => p.key),
      ['audit', 'ceph.clusters[1].dashboards[0]', 'ceph.clusters[1].dashboards'],
    );
  });
});
