// `cephgate serve` as an operator runs it: a child process started from a config file, ready on the
// admin listener, serving an API-key client through the whole pipeline to a Ceph stand-in, and on
// SIGTERM finishing the request in flight, refusing new connections and exiting 0. Also what it says
// when it cannot serve (issue 18, item 4): a configuration that can never serve is refused (exit 2);
// dead mgrs are logged at warn with each one's cause, /readyz says why, and release detection names
// every dashboard's error. With PGlite a CLI command beside it refuses and says what to do; with
// --workers N (Postgres) the workers share the port, one that dies is started again, SIGTERM stops all.

import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { need, testEnv } from '../support/requirements.ts';
import { throwawayDatabase } from '../support/throwaway-database.ts';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'cephgate-serve-'));
let stub: Server;
const children = new Set<ChildProcess>();
let key = '';

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const p = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return p;
}

/** The few dashboard answers the gateway needs: active-mgr probe, login, and one slow read. */
function cephStandIn(): Server {
  const exp = Math.floor(Date.now() / 1000) + 3600;
  const jwt =
    [
      { alg: 'HS256', typ: 'JWT' },
      { iss: 'ceph-dashboard', exp, iat: exp - 3600, username: 'svc' },
    ]
      .map((o) => Buffer.from(JSON.stringify(o)).toString('base64url'))
      .join('.') + '.sig';
  return createHttpServer((req, res) => {
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    req.resume();
    req.on('end', () => {
      if (req.url === '/api/auth' && req.method === 'POST') return json(201, { token: jwt, username: 'svc', permissions: {} });
      if (req.headers.authorization !== `Bearer ${jwt}`) return json(401, { detail: 'not authorized' });
      if (req.url === '/api/summary') return void setTimeout(() => json(200, { health_status: 'HEALTH_OK' }), 1500);
      return json(404, { detail: 'not found' });
    });
  });
}

interface Ports {
  readonly pub: number;
  readonly admin: number;
}

/** A configuration for this suite; `dashboards` default to the stand-in. */
function writeConfig(name: string, ports: Ports, o: { dashboards?: string[]; release?: string; audit?: string } = {}): string {
  const path = join(dir, name);
  writeFileSync(
    path,
    [
      `server: { listen: { host: 127.0.0.1, port: ${ports.pub} }, shutdown_grace_ms: 5000 }`,
      `admin: { listen: { host: 127.0.0.1, port: ${ports.admin} } }`,
      // Every line written at once: the test reads the log while the gateway runs.
      'logging: { level: info, format: json, buffer_bytes: 0 }',
      'ceph:',
      '  clusters:',
      '    - name: main',
      `      dashboards: ${JSON.stringify(o.dashboards ?? [`http://127.0.0.1:${(stub.address() as AddressInfo).port}`])}`,
      `      release: ${o.release ?? 'pacific'}`,
      '      accounts: [{ name: svc, username: svc, password_env: CG_SERVE_TEST_PW }]',
      '      default_account: svc',
      '      failover: { health_interval_ms: 500, wait_ms: 500, probe_timeout_ms: 500 }',
      `policy: { dir: ${join(dir, 'policies')}, watch: false }`,
      `audit: ${o.audit ?? `{ pglite_dir: ${join(dir, 'audit')}, spool_dir: ${join(dir, 'spool')} }`}`,
      '',
    ].join('\n'),
  );
  return path;
}

interface Serving {
  readonly proc: ChildProcess;
  readonly exited: Promise<number | null>;
  /** Every JSON log line so far. */
  readonly lines: () => { level: number; msg: string; [k: string]: unknown }[];
  readonly stderr: () => string;
}

function startServe(config: string, args: string[] = [], env: NodeJS.ProcessEnv = {}): Serving {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'serve', '--config', config, ...args], {
    env: { ...process.env, CG_SERVE_TEST_PW: 'not-a-real-password', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(proc);
  let out = '';
  let err = '';
  proc.stdout?.on('data', (d) => {
    out += String(d);
  });
  proc.stderr?.on('data', (d) => {
    err += String(d);
  });
  const exited = new Promise<number | null>((r) =>
    proc.once('exit', (code) => {
      children.delete(proc);
      r(code);
    }),
  );
  return {
    proc,
    exited,
    lines: () =>
      out
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l)),
    stderr: () => err,
  };
}

async function until<T>(what: string, fn: () => Promise<T | null | undefined>, tries = 240): Promise<T> {
  for (let i = 0; i < tries; i++) {
    const v = await fn().catch(() => null);
    if (v !== null && v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const readyz = (port: number) =>
  fetch(`http://127.0.0.1:${port}/readyz`).then(async (r) => ({ status: r.status, body: (await r.json()) as Record<string, unknown> }));

before(async () => {
  stub = cephStandIn();
  await new Promise<void>((r) => stub.listen(0, '127.0.0.1', r));
  mkdirSync(join(dir, 'policies'));
  writeFileSync(
    join(dir, 'policies', 'ci.yaml'),
    'rules:\n  - id: ci-reads-summary\n    effect: allow\n    subjects: { groups: [ci] }\n    methods: [GET]\n    routes: [/api/summary]\n',
  );
  const config = writeConfig('cephgate.yaml', { pub: 1, admin: 1 });
  const created = await run(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'apikey', 'create', '--name', 'ci', '--groups', 'ci', '--config', config]);
  key = created.stdout.trim();
});

after(async () => {
  for (const c of children) c.kill('SIGKILL');
  await new Promise<void>((r) => stub.close(() => r()));
  rmSync(dir, { recursive: true, force: true });
});

test('serve from a config file answers, then shuts down gracefully on SIGTERM; a CLI command beside it on PGlite refuses and says what to do', async () => {
  const ports = { pub: await freePort(), admin: await freePort() };
  const config = writeConfig('cephgate.yaml', ports);
  const s = startServe(config);
  await until('ready', async () => ((await readyz(ports.admin)).status === 200 ? true : null));

  // Issue 17: PGlite is one process's database; the command says so instead of `Aborted()`.
  const beside = await run(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'apikey', 'create', '--name', 'x', '--groups', 'ci', '--config', config]).catch(
    (e: { code: number; stderr: string }) => e,
  );
  assert.equal((beside as { code?: number }).code, 2);
  assert.match(
    (beside as { stderr: string }).stderr,
    /is in use by `cephgate serve` \(pid \d+, since .*\)\. PGlite is one process's database: stop that process first/,
  );
  assert.match((beside as { stderr: string }).stderr, /HTTP API \(\/gateway\/v1\/apikeys/);

  const url = `http://127.0.0.1:${ports.pub}/api/summary`;
  const slow = fetch(url, { headers: { authorization: `Bearer ${key}` } });
  await new Promise((r) => setTimeout(r, 400));
  s.proc.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 200));
  const refused = await fetch(url, { headers: { authorization: `Bearer ${key}` } }).then(
    () => false,
    () => true,
  );
  assert.ok(refused, 'no new connections after SIGTERM');
  const res = await slow;
  assert.equal(res.status, 200, 'the request in flight finished');
  assert.deepEqual(await res.json(), { health_status: 'HEALTH_OK' });
  assert.equal(await s.exited, 0);
  assert.equal(s.stderr(), '');
});

describe('when it cannot serve', () => {
  test('a configuration that can never serve is refused, every reason in the fatal log line, exit 2 (item 4)', async () => {
    const path = join(dir, 'never.yaml');
    writeFileSync(
      path,
      [
        'ceph:',
        '  clusters:',
        '    - name: main',
        '      dashboards: [ftp://mgr:8443]',
        '      release: reef',
        '      accounts:',
        '        - { name: svc, username: a, password_env: CG_SERVE_TEST_UNSET }',
        '        - { name: svc, username: b, password_env: CG_SERVE_TEST_PW }',
        `policy: { dir: ${join(dir, 'policies')} }`,
        '',
      ].join('\n'),
    );
    const s = startServe(path);
    assert.equal(await s.exited, 2);
    const fatal = s.lines().find((l) => l.level === 60);
    const problems = (fatal?.problems as string[] | undefined)?.join('\n') ?? '';
    assert.match(problems, /never\.yaml:4: error: ceph\.clusters\[0\]\.dashboards\[0\]: ftp:\/\/mgr:8443: a dashboard must be an http/);
    assert.match(problems, /never\.yaml:7: error: ceph\.clusters\[0\]\.accounts\[0\]\.password_env: environment variable CG_SERVE_TEST_UNSET is not set/);
    assert.match(problems, /never\.yaml:8: error: ceph\.clusters\[0\]\.accounts\[1\]\.name: duplicate account name svc in cluster main/);
    assert.equal(
      s.lines().some((l) => l.msg === 'cephgate is listening'),
      false,
    );
  });

  test('release detection names every dashboard and its error, not only the last (item 4)', async () => {
    const dead = [`http://127.0.0.1:${await freePort()}`, `http://127.0.0.1:${await freePort()}`];
    const s = startServe(writeConfig('auto.yaml', { pub: await freePort(), admin: await freePort() }, { dashboards: dead, release: 'auto' }));
    assert.equal(await s.exited, 2);
    const fatal = s.lines().find((l) => l.level === 60);
    const msg = String(fatal?.msg);
    assert.match(msg, /cannot detect the Ceph release of cluster main \(release: auto\)/);
    for (const url of dead) assert.ok(msg.includes(`${url}: connection refused at ${url.slice(7)}`), `${url} in: ${msg}`);
    assert.equal(s.stderr(), '');
  });

  test("dead mgrs: a warning with each one's cause, the 503 logged with it, /readyz says why (item 4)", async () => {
    const ports = { pub: await freePort(), admin: await freePort() };
    const dead = [`http://127.0.0.1:${await freePort()}`, `http://127.0.0.1:${await freePort()}`];
    const s = startServe(writeConfig('dead.yaml', ports, { dashboards: dead }));
    const ready = await until('the admin listener', async () => {
      const r = await readyz(ports.admin);
      return r.status === 503 && (r.body.reasons as Record<string, string> | undefined)?.main ? r : null;
    });
    const why = (ready.body.reasons as Record<string, string>).main as string;
    for (const url of dead) assert.ok(why.includes(`${url}: connection refused at ${url.slice(7)}`), why);
    assert.deepEqual(ready.body.ceph, { main: 'unreachable' });

    const res = await fetch(`http://127.0.0.1:${ports.pub}/api/summary`, { headers: { authorization: `Bearer ${key}` } });
    assert.equal(res.status, 503);
    assert.equal(((await res.json()) as { code: string }).code, 'ceph_unavailable');
    s.proc.kill('SIGTERM');
    assert.equal(await s.exited, 0);
    const warn = s.lines().find((l) => l.level === 40 && /no active Ceph mgr among 2 dashboard\(s\) of cluster main/.test(l.msg));
    assert.ok(warn, 'the mgr probe failures are a warning');
    for (const url of dead) assert.ok(warn.msg.includes(`${url}: connection refused`), warn.msg);
    const refused = s.lines().find((l) => l.level === 40 && (l.err as { explained?: string } | undefined)?.explained?.includes('no active Ceph mgr among'));
    assert.ok(refused, 'the 503 is logged at warn with its cause');
  });
});

describe('serve --workers (Postgres)', () => {
  test('two workers share the port; one that dies is started again; SIGTERM stops both gracefully', async (t) => {
    if (!need(t, 'postgres')) return;
    const db = await throwawayDatabase();
    t.after(() => db.drop());
    const ports = { pub: await freePort(), admin: await freePort() };
    const config = writeConfig('workers.yaml', ports, { audit: `{ database_url_env: CG_WORKERS_DB, spool_dir: ${join(dir, 'spool-w')} }` });
    const env = { CG_WORKERS_DB: db.url };
    const created = await run(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'apikey', 'create', '--name', 'ci', '--groups', 'ci', '--config', config], {
      env: { ...process.env, ...env },
    });
    const wkey = created.stdout.trim();
    assert.ok(testEnv.databaseUrl);
    const s = startServe(config, ['--workers', '2'], env);
    const ready = await until('both workers ready', async () => {
      const r = await readyz(ports.admin);
      return r.status === 200 && r.body.workers_ready === 2 ? r : null;
    });
    assert.equal((ready.body.workers as unknown[]).length, 2);
    assert.equal(s.lines().filter((l) => l.msg === 'cephgate is listening').length, 2);

    // Kill one worker: the primary starts another in its slot, and the port keeps answering meanwhile.
    const serving = s.lines().find((l) => l.msg === 'cephgate is serving with 2 workers') as { pids: number[] } | undefined;
    assert.ok(serving, 'the primary says when all workers listen');
    process.kill(serving.pids[1] as number, 'SIGKILL');
    await until('a new worker', async () => (s.lines().filter((l) => l.msg === 'cephgate is listening').length === 3 ? true : null));
    assert.ok(s.lines().some((l) => l.level === 40 && l.msg === 'a worker died; starting another' && l.signal === 'SIGKILL'));

    // Metrics are the workers' added up: two requests through either worker count two.
    for (let i = 0; i < 2; i++)
      assert.equal((await fetch(`http://127.0.0.1:${ports.pub}/api/summary`, { headers: { authorization: `Bearer ${wkey}` } })).status, 200);
    const metrics = await (await fetch(`http://127.0.0.1:${ports.admin}/metrics`)).text();
    assert.match(metrics, /cephgate_requests_total\{[^}]*decision="allow"[^}]*status="200"\} 2/);

    const slow = fetch(`http://127.0.0.1:${ports.pub}/api/summary`, { headers: { authorization: `Bearer ${wkey}` } });
    await new Promise((r) => setTimeout(r, 400));
    s.proc.kill('SIGTERM');
    const res = await slow;
    assert.equal(res.status, 200, 'the request in flight finished');
    assert.equal(await s.exited, 0);
    assert.equal(s.lines().filter((l) => l.msg === 'stopped').length, 3, 'both workers and the primary stopped');
    assert.equal(s.stderr(), '');
  });
});
