// The cephgate command line as a user runs it (a child process per call): help texts, exit codes as
// documented (0 ok, 1 check failed, 2 usage/config/could not run), one-line errors, and the
// database verbs (migrate, apikey, audit) on an embedded PGlite directory.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';

const dir = mkdtempSync(join(tmpdir(), 'cephgate-cli-'));
const config = join(dir, 'cephgate.yaml');
writeFileSync(config, `audit:\n  pglite_dir: ${join(dir, 'db')}\n`);

function withoutConfig(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { CEPHGATE_CONFIG: _unused, ...rest } = env;
  return rest;
}

function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'src/cli.ts', ...args],
      { env: { ...withoutConfig(process.env), ...env }, timeout: 120_000 },
      (err, stdout, stderr) => {
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}

after(() => rmSync(dir, { recursive: true, force: true }));

describe('help and usage errors', () => {
  test('--help lists every command and exits 0; no command prints it and exits 2', async () => {
    const help = await cli(['--help']);
    assert.equal(help.code, 0);
    for (const c of ['serve', 'migrate', 'policy check|test|explain', 'audit verify|export|prune', 'apikey create|list|revoke', 'version'])
      assert.ok(help.stdout.includes(c), c);
    assert.equal((await cli([])).code, 2);
  });

  test('each command has its own --help', async () => {
    for (const c of ['serve', 'migrate', 'policy', 'audit', 'apikey']) {
      const r = await cli([c, '--help']);
      assert.equal(r.code, 0, c);
      assert.match(r.stdout, /Usage/, c);
    }
  });

  test('an unknown command or flag is one line on stderr and exit 2', async () => {
    for (const args of [['bogus'], ['policy', 'check', '--bogus'], ['policy', 'frobnicate'], ['apikey', 'revoke']]) {
      const r = await cli(args);
      assert.equal(r.code, 2, args.join(' '));
      assert.equal(r.stderr.trim().split('\n').length, 1, `${args.join(' ')}: ${r.stderr}`);
    }
  });

  test('version prints the package version', async () => {
    const r = await cli(['version']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^cephgate \d+\.\d+\.\d+/);
  });

  test('a configuration with three mistakes names all three and exits 2', async () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'server:\n  listen:\n    port: "x"\nlimits:\n  max_body_bytes: -1\nlogging:\n  colour: red\n');
    const r = await cli(['serve', '--config', bad]);
    assert.equal(r.code, 2);
    for (const k of ['server.listen.port', 'limits.max_body_bytes', 'logging']) assert.ok(r.stderr.includes(k), k);
  });

  test('serve without any Ceph cluster refuses to start with a clear line', async () => {
    const r = await cli(['serve', '--config', config]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /no Ceph cluster configured/);
  });
});

describe('policy tools', () => {
  test('check and test pass on the example policies', async () => {
    assert.equal((await cli(['policy', 'check'])).code, 0);
    const t = await cli(['policy', 'test']);
    assert.equal(t.code, 0, t.stdout);
    assert.match(t.stdout, /\d+ passed, 0 failed/);
  });

  test('explain exits 0 for an allow and 1 for a deny, naming the rule', async () => {
    const allow = await cli(['policy', 'explain', '--principal', '{"id":"alice","groups":["team-a"]}', '--method', 'GET', '--path', '/api/osd']);
    assert.equal(allow.code, 0, allow.stdout);
    const deny = await cli(['policy', 'explain', '--principal', '{"id":"alice","groups":["team-a"]}', '--method', 'PUT', '--path', '/api/osd/flags']);
    assert.equal(deny.code, 1);
    assert.match(deny.stdout, /=> deny/);
  });
});

describe('database verbs on PGlite', () => {
  test('migrate, apikey create/list/revoke, audit verify/export', async () => {
    assert.equal((await cli(['migrate', '--config', config])).code, 0);
    const created = await cli(['apikey', 'create', '--name', 'ci-team-a', '--groups', 'team-a', '--expires', '90d', '--config', config]);
    assert.equal(created.code, 0, created.stderr);
    const key = created.stdout.trim();
    assert.match(key, /^cgk_/);
    const list = await cli(['apikey', 'list', '--config', config]);
    assert.equal(list.code, 0);
    assert.ok(list.stdout.includes('ci-team-a'));
    assert.equal(list.stdout.includes(key), false, 'the key is shown only at creation');
    assert.equal((await cli(['apikey', 'revoke', 'ci-team-a', '--config', config])).code, 0);
    assert.equal((await cli(['apikey', 'revoke', 'ci-team-a', '--config', config])).code, 0, 'revoking again is harmless');
    assert.equal((await cli(['apikey', 'revoke', 'no-such-key', '--config', config])).code, 1, 'an unknown key is a failed check');
    const verify = await cli(['audit', 'verify', '--config', config]);
    assert.equal(verify.code, 0, verify.stderr);
    assert.match(verify.stdout, /chain intact/);
    const exp = await cli(['audit', 'export', '--format', 'csv', '--config', config]);
    assert.equal(exp.code, 0, exp.stderr);
  });
});
