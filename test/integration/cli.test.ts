// The cephgate command line as a user runs it (a child process per call): help texts, exit codes as
// documented (0 ok, 1 check failed, 2 usage/config/could not run), one-line errors that say what to
// do (issue 18 items 1, 2, 6), serve's fatal errors in its JSON log (item 5), and the database verbs
// (migrate, apikey, audit) on an embedded PGlite directory.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, describe, test } from 'node:test';
import { auditPrune } from '../../src/audit/cli-commands.ts';

const dir = mkdtempSync(join(tmpdir(), 'cephgate-cli-'));
const config = join(dir, 'cephgate.yaml');
writeFileSync(config, `audit:\n  pglite_dir: ${join(dir, 'db')}\n`);

function withoutConfig(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { CEPHGATE_CONFIG: _unused, ...rest } = env;
  return rest;
}

const CLI = join(process.cwd(), 'src', 'cli.ts');
// Resolved here: a command run in another working directory would not find tsx from there.
const TSX = import.meta.resolve('tsx');

function cli(args: string[], env: NodeJS.ProcessEnv = {}, cwd?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', TSX, CLI, ...args],
      { env: { ...withoutConfig(process.env), ...env }, timeout: 120_000, ...(cwd ? { cwd } : {}) },
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
    for (const c of ['serve', 'migrate', 'config', 'policy', 'audit', 'apikey']) {
      const r = await cli([c, '--help']);
      assert.equal(r.code, 0, c);
      assert.match(r.stdout, /Usage/, c);
    }
  });

  test('each subcommand has its own --help, printed before its other flags are checked (item 6)', async () => {
    const r = await cli(['policy', 'explain', '--help']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /policy explain --principal/);
    assert.doesNotMatch(r.stdout, /policy test|policy check/, 'only explain, not the whole group');
    const prune = await cli(['audit', 'prune', '-h']);
    assert.match(prune.stdout, /--dry-run/);
    assert.doesNotMatch(prune.stdout, /audit export/);
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

  test('a configuration with three mistakes names all three, each with its line, and exits 2', async () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'server:\n  listen:\n    port: "x"\nlimits:\n  max_body_bytes: -1\nlogging:\n  colour: red\n');
    const r = await cli(['serve', '--config', bad]);
    assert.equal(r.code, 2);
    for (const k of [`${bad}:3: error: server.listen.port`, `${bad}:5: error: limits.max_body_bytes`, `${bad}:7: error: logging.colour`])
      assert.ok(r.stdout.includes(k), k);
  });

  test("serve's fatal error is a line of its JSON log, and nothing is written to stderr (item 5)", async () => {
    const r = await cli(['serve', '--config', config]);
    assert.equal(r.code, 2);
    assert.equal(r.stderr, '', 'one log format: no plain text on stderr');
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { level: number; msg: string; problems?: string[] });
    const fatal = lines.find((l) => l.level === 60);
    assert.ok(fatal, r.stdout);
    assert.match(fatal.msg, /refuses to start/);
    assert.ok(
      fatal.problems?.some((p) => /ceph\.clusters: no Ceph cluster configured/.test(p)),
      JSON.stringify(fatal),
    );
  });
});

describe('policy tools', () => {
  test('check and test pass on the example policies', async () => {
    assert.equal((await cli(['policy', 'check'])).code, 0);
    const t = await cli(['policy', 'test']);
    assert.equal(t.code, 0, t.stdout);
    assert.match(t.stdout, /\d+ passed, 0 failed/);
  });

  test('policy check on a directory that does not exist could not run: exit 2, not a made-up line (item 6)', async () => {
    const r = await cli(['policy', 'check', '--dir', '/nonexistent']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^cephgate policy check: cannot read the policy directory: no such file or directory: \/nonexistent/);
  });

  test('explain takes --method HEAD and decides it as its GET, as the gateway does (item 6)', async () => {
    const r = await cli(['policy', 'explain', '--principal', '{"id":"alice","groups":["team-a"]}', '--method', 'HEAD', '--path', '/api/osd']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /HEAD is decided as its GET/);
    assert.match(r.stdout, /=> allow/);
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
    const again = await cli(['apikey', 'revoke', 'ci-team-a', '--config', config]);
    assert.equal(again.code, 0, 'revoking again is harmless');
    assert.match(again.stdout, /was already revoked at .*; nothing changed/, 'and says so (item 6)');
    assert.equal((await cli(['apikey', 'revoke', 'no-such-key', '--config', config])).code, 1, 'an unknown key is a failed check');
    const verify = await cli(['audit', 'verify', '--config', config]);
    assert.equal(verify.code, 0, verify.stderr);
    assert.match(verify.stdout, /chain intact/);
    const exp = await cli(['audit', 'export', '--format', 'csv', '--config', config]);
    assert.equal(exp.code, 0, exp.stderr);
  });

  test('API keys created and revoked from the CLI are in the audit log with the OS user who ran it (item 6)', async () => {
    const created = await cli(['apikey', 'create', '--name', 'audited', '--groups', 'ci', '--config', config]);
    assert.equal(created.code, 0, created.stderr);
    assert.equal((await cli(['apikey', 'revoke', 'audited', '--config', config])).code, 0);
    const exp = await cli(['audit', 'export', '--operation', 'Gateway.apikey.admin', '--config', config]);
    assert.equal(exp.code, 0, exp.stderr);
    const records = exp.stdout
      .trim()
      .split('\n')
      .map(
        (l) => JSON.parse(l) as { method: string; principal: { id: string; auth_method: string } | null; body: unknown; outcome?: { status?: number } | null },
      );
    const mine = records.filter((r) => JSON.stringify(r.body).includes('audited'));
    assert.deepEqual(mine.map((r) => r.method).sort(), ['DELETE', 'POST'], JSON.stringify(records));
    for (const r of mine) {
      assert.equal(r.principal?.id, `os:${userInfo().username}@${hostname()}`);
      assert.equal(r.principal?.auth_method, 'cli');
    }
  });

  test('apikey create without --groups refuses and says how; --no-groups says what it made (item 6)', async () => {
    const r = await cli(['apikey', 'create', '--name', 'nogroups', '--config', config]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /needs --groups .* or --no-groups/);
    const ok = await cli(['apikey', 'create', '--name', 'nogroups', '--no-groups', '--config', config]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stderr, /with no groups \(only rules naming it in subjects\.api_keys match it\)/);
  });

  test('audit prune: --older-than 0 is answered about the flag; --dry-run counts and removes nothing (item 6)', async () => {
    const zero = await cli(['audit', 'prune', '--older-than', '0', '--config', config]);
    assert.equal(zero.code, 2);
    assert.match(zero.stderr, /--older-than 0: give a whole number of days, at least 1/);
    assert.doesNotMatch(zero.stderr + zero.stdout, /retention_days/);
    // In-process with a clock ten days ahead, so every record is old enough: the dry run counts what the prune removes.
    const lines: string[] = [];
    const stdout = new Writable({
      write(chunk, _e, cb) {
        lines.push(String(chunk));
        cb();
      },
    });
    const later = new Date(Date.now() + 10 * 86400_000);
    const opts = { pgliteDir: join(dir, 'db'), retentionDays: 1, now: later, stdout };
    assert.equal(await auditPrune({ ...opts, dryRun: true }), 0);
    assert.equal(await auditPrune({ ...opts, dryRun: true }), 0, 'a dry run removes nothing: the second counts the same');
    assert.equal(await auditPrune(opts), 0);
    const [dry1, dry2, real] = lines;
    const counted = (l: string | undefined) => /(\d+) records and (\d+) outcomes/.exec(l ?? '')?.slice(1);
    assert.match(dry1 ?? '', /would remove [1-9]\d* records/);
    assert.deepEqual(counted(dry1), counted(dry2));
    assert.deepEqual(counted(dry1), counted(real), 'the dry run counts exactly what the prune removes');
  });

  test('migrate with no configuration says where the database is and how many migrations it applied (item 6)', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'cephgate-cli-noconfig-'));
    try {
      const first = await cli(['migrate'], {}, cwd);
      assert.equal(first.code, 0, first.stderr);
      assert.match(
        first.stdout,
        new RegExp(`migrate: PGlite ${join(cwd, '.cephgate', 'audit')} \\(configuration: built-in defaults\\): applied (\\d+) of \\1 migrations`),
      );
      const second = await cli(['migrate'], {}, cwd);
      assert.match(second.stdout, /already up to date \(\d+ migrations\)/);
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  });
});

describe('errors a person can act on', () => {
  test('an unreachable Postgres says "connection refused at" its address and what to set, never the SQL (item 1)', async () => {
    for (const args of [['audit', 'export'], ['migrate'], ['apikey', 'list']]) {
      const r = await cli(args, { DATABASE_URL: 'postgres://postgres@127.0.0.1:5999/x' }, dir);
      assert.equal(r.code, 2, args.join(' '));
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stderr, /connection refused at 127\.0\.0\.1:5999: is Postgres running there\? Set DATABASE_URL/, args.join(' '));
      assert.doesNotMatch(r.stderr, /Failed query|CREATE SCHEMA|select/);
    }
  });

  test('audit verify on a database without the tables says to run cephgate migrate (item 1)', async () => {
    const empty = join(dir, 'unmigrated.yaml');
    writeFileSync(empty, `audit:\n  pglite_dir: ${join(dir, 'unmigrated')}\n`);
    const r = await cli(['audit', 'verify', '--config', empty]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /does not exist: run `cephgate migrate`/);
  });

  test('audit export to a directory that does not exist is one line and exit 2, not a stack trace (item 2)', async () => {
    const r = await cli(['audit', 'export', '--out', '/nonexistent/dir/x.csv', '--config', config]);
    assert.equal(r.code, 2);
    assert.equal(
      r.stderr,
      'cephgate audit export: cannot write --out /nonexistent/dir/x.csv: no such file or directory: /nonexistent/dir/x.csv: check the path\n',
    );
    assert.equal(existsSync('/nonexistent/dir/x.csv'), false);
  });
});
