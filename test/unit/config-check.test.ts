// The static configuration check (config/check.ts; issue 18, item 3): every problem in one pass, each
// at its file line or at the CEPHGATE__ variable that set it, beyond the schema: references, secrets
// present and well-formed, files readable and holding what they should, URL schemes, duplicate names.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { checkConfig } from '../../src/config/check.ts';
import { type ConfigProblem, formatProblem } from '../../src/config/check-problem.ts';
import { ConfigError, loadConfig } from '../../src/config/load.ts';

const dir = mkdtempSync(join(tmpdir(), 'cephgate-config-check-'));
after(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
function file(lines: string[]): string {
  const p = join(dir, `c${n++}.yaml`);
  writeFileSync(p, `${lines.join('\n')}\n`);
  return p;
}

/** The report as the CLI prints it, one line per problem. */
function lines(path: string, env: NodeJS.ProcessEnv = {}): string[] {
  return checkConfig({ path, env }).problems.map(formatProblem);
}

const has = (all: string[], re: RegExp) =>
  assert.ok(
    all.some((l) => re.test(l)),
    `${re} not in:\n${all.join('\n')}`,
  );

/** A cluster that passes every check, for tests about something else. */
const CLUSTER = ['ceph:', '  clusters:', '    - name: main', '      dashboards: [https://mgr-a:8443]', '      release: reef'];

test('schema problems carry the line of the key, an unknown key its own line', () => {
  const p = file(['server:', '  listen:', '    port: "x"', 'logging:', '  colour: red', ...CLUSTER]);
  const all = lines(p);
  has(all, new RegExp(`^${p}:3: error: server\\.listen\\.port: Invalid input`));
  has(all, new RegExp(`^${p}:5: error: logging\\.colour: unknown key`));
});

test('a value set by a CEPHGATE__ variable is blamed on the variable, not the file', () => {
  const p = file(['limits:', '  max_body_bytes: 1000', ...CLUSTER]);
  const all = lines(p, { CEPHGATE__LIMITS__MAX_BODY_BYTES: '-1', CEPHGATE__CEPH__CLUSTERS__0__DASHBOARDS: '[ftp://mgr:8443]' });
  has(all, /^\$CEPHGATE__LIMITS__MAX_BODY_BYTES: error: limits\.max_body_bytes: Too small/);
  has(all, /^\$CEPHGATE__CEPH__CLUSTERS__0__DASHBOARDS: error: ceph\.clusters\[0\]\.dashboards\[0\]: ftp:\/\/mgr:8443: a dashboard must be an http/);
});

test('a schema failure elsewhere does not hide the references between keys', () => {
  // `port: "x"` is a type error: zod then skips every refinement of the enclosing objects.
  const p = file([
    'server:',
    '  listen: { port: "x" }',
    'ceph:',
    '  default_cluster: prod',
    '  clusters:',
    '    - name: main',
    '      dashboards: [https://mgr-a:8443]',
    '      accounts:',
    '        - { name: reader, username: a, password_env: CHECK_PW }',
    '        - { name: reader, username: b, password_env: CHECK_PW }',
    '      default_account: admin',
    '    - name: main',
    '      dashboards: [https://mgr-b:8443]',
  ]);
  const all = lines(p, { CHECK_PW: 'x' });
  has(all, /:4: error: ceph\.default_cluster: no cluster named prod/);
  has(all, /:10: error: ceph\.clusters\[0\]\.accounts\[1\]\.name: duplicate account name reader in cluster main/);
  has(all, /:11: error: ceph\.clusters\[0\]\.default_account: no account named admin/);
  has(all, /:12: error: ceph\.clusters\[1\]\.name: duplicate cluster name main/);
  has(all, /:2: error: server\.listen\.port/);
});

test('every secret at once: missing reference, unset variable, unreadable file, inline, wrong form naming the key', () => {
  const p = file([
    'ceph:',
    '  clusters:',
    '    - name: main',
    '      dashboards: [https://mgr-a:8443]',
    '      accounts:',
    '        - { name: a, username: a }',
    '        - { name: b, username: b, password_env: CHECK_UNSET }',
    '        - { name: c, username: c, password_file: /nonexistent/pw }',
    '        - { name: d, username: d, password: hunter2 }',
    'identity:',
    '  sessions: { encryption_key_env: CHECK_KEY }',
    'audit: { database_url_env: CHECK_DB }',
  ]);
  const all = lines(p, { CHECK_KEY: Buffer.alloc(16).toString('base64'), CHECK_DB: 'mysql://db/x' });
  has(all, /:6: error: ceph\.clusters\[0\]\.accounts\[0\]\.password_env: no secret given: set password_env .* or password_file/);
  has(all, /:7: error: ceph\.clusters\[0\]\.accounts\[1\]\.password_env: environment variable CHECK_UNSET is not set/);
  has(all, /:8: error: ceph\.clusters\[0\]\.accounts\[2\]\.password_file: cannot read secret file \/nonexistent\/pw \(ENOENT\)/);
  has(all, /:9: warning: ceph\.clusters\[0\]\.accounts\[3\]\.password: an inline secret/);
  has(all, /:11: error: identity\.sessions\.encryption_key_env: the encryption_key from environment variable CHECK_KEY must be 32 bytes.*decodes to 16 bytes/);
  has(all, /:12: error: audit\.database_url_env: the database_url from environment variable CHECK_DB must start with postgres:\/\//);
  assert.equal(
    all.some((l) => l.includes('hunter2')),
    false,
    'a secret value is never printed',
  );
});

test('browser login: its secrets and a public URL are required, whatever else is wrong', () => {
  const p = file([
    ...CLUSTER,
    'identity:',
    '  issuers:',
    '    - { name: corp, issuer: "https://idp.example", audiences: [cg] }',
    '  browser_login: { enabled: true, issuer: nope, client_id: cg }',
  ]);
  const all = lines(p);
  has(all, /error: identity\.browser_login\.issuer: no issuer named nope/);
  has(all, /error: identity\.browser_login\.enabled: browser login needs server\.public_url/);
  has(all, /error: identity\.browser_login\.client_secret_env: /);
  has(all, /error: identity\.sessions\.encryption_key_env: /);
});

test('files are read as the gateway will: a missing CA file is named as that, a file without a certificate too', () => {
  const notPem = join(dir, 'not.pem');
  writeFileSync(notPem, 'hello\n');
  const p = file([
    'server: { tls: { cert_file: /nonexistent/tls.crt, key_file: /nonexistent/tls.key } }',
    'ceph:',
    '  clusters:',
    '    - { name: a, dashboards: [https://mgr-a:8443], tls: { ca_file: /etc/cephgate/nowhere/ceph-ca.pem } }',
    `    - { name: b, dashboards: [https://mgr-b:8443], tls: { ca_file: ${notPem} } }`,
    'policy: { dir: /nonexistent/policies }',
    `audit: { signing_key_file: ${notPem} }`,
  ]);
  const all = lines(p);
  has(all, /:1: error: server\.tls\.cert_file: no such file or directory: \/nonexistent\/tls\.crt/);
  has(all, /:1: error: server\.tls\.key_file: no such file or directory: \/nonexistent\/tls\.key/);
  has(all, /:4: error: ceph\.clusters\[0\]\.tls\.ca_file: no such file or directory: \/etc\/cephgate\/nowhere\/ceph-ca\.pem/);
  has(all, /:5: error: ceph\.clusters\[1\]\.tls\.ca_file: .*holds no PEM certificate/);
  has(all, /:6: error: policy\.dir: no such file or directory: \/nonexistent\/policies/);
  has(all, /:7: error: audit\.signing_key_file: .*is not a PEM private key/);
});

test('URL schemes, no cluster at all, and the warnings worth knowing', () => {
  const none = lines(file(['logging: { level: info }']));
  has(none, /error: ceph\.clusters: no Ceph cluster configured/);
  has(none, /warning: audit\.pglite_dir: the embedded PGlite store: one process only/);
  const p = file([
    'ceph:',
    '  clusters:',
    '    - { name: a, dashboards: [https://mgr-a:8443/dashboard], tls: { insecure_skip_verify: true } }',
    'identity:',
    '  issuers: [{ name: corp, issuer: "http://idp.example/realms/x", audiences: [cg] }]',
  ]);
  const all = lines(p);
  has(all, /warning: ceph\.clusters\[0\]\.dashboards\[0\]: .*the path \/dashboard is ignored/);
  has(all, /warning: ceph\.clusters\[0\]\.tls\.insecure_skip_verify: TLS verification towards Ceph is off/);
  has(all, /warning: identity\.issuers\[0\]\.issuer: http:\/\/idp\.example\/realms\/x: plain http outside loopback/);
});

test('errors come first, in file order; the same problem is reported once', () => {
  const report = checkConfig({
    path: file(['ceph:', '  default_cluster: x', '  clusters:', '    - { name: a, dashboards: [https://m:1], default_account: z }']),
    env: {},
  });
  const sev = report.problems.map((p: ConfigProblem) => p.severity);
  assert.deepEqual(
    sev,
    [...sev].sort((a, b) => (a === b ? 0 : a === 'error' ? -1 : 1)),
  );
  const texts = report.problems.map(formatProblem);
  assert.equal(new Set(texts).size, texts.length);
});

test("loadConfig's error (every other command) names the line too", () => {
  const p = file(['server:', '  listen:', '    port: "x"']);
  assert.throws(
    () => loadConfig({ path: p, env: {} }),
    (e: unknown) => e instanceof ConfigError && e.message.includes(`server.listen.port (${p}:3): Invalid input`),
  );
});

test('rate limits name configured clusters, once each, and rules have unique names', () => {
  const p = file([
    ...CLUSTER,
    'rate_limits:',
    '  enabled: true',
    '  rules:',
    '    - name: team-a',
    '      clusters: [main, other]',
    '      reads: { requests: 10 }',
    '    - name: team-a',
    '      reads: { requests: 5 }',
    '  clusters:',
    '    - { cluster: main, requests_per_second: 100 }',
    '    - { cluster: main, requests_per_second: 50 }',
    '    - { cluster: nowhere, requests_per_second: 50 }',
  ]);
  const all = lines(p);
  has(all, new RegExp(`^${p}:\\d+: error: rate_limits\\.rules\\[0\\]\\.clusters\\[1\\]: no cluster named other`));
  has(all, /error: rate_limits\.rules\[1\]\.name: duplicate rate-limit rule name team-a/);
  has(all, /error: rate_limits\.clusters\[1\]\.cluster: duplicate cluster budget for main/);
  has(all, /error: rate_limits\.clusters\[2\]\.cluster: no cluster named nowhere/);
  // loadConfig (every other command) refuses the same.
  assert.throws(
    () => loadConfig({ path: p, env: {} }),
    (err: unknown) => err instanceof ConfigError && /rate_limits\.clusters\[2\]\.cluster \(.*\): no cluster named nowhere/.test(err.message),
  );
});
