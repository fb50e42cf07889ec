// `cephgate serve` as an operator runs it: a child process started from a config file, ready on the
// admin listener, serving an API-key client through the whole pipeline to a Ceph stand-in, and on
// SIGTERM finishing the request in flight, refusing new connections and exiting 0.

import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'cephgate-serve-'));
let stub: Server;
let child: ChildProcess | null = null;
let publicPort = 0;
let adminPort = 0;
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

before(async () => {
  stub = cephStandIn();
  await new Promise<void>((r) => stub.listen(0, '127.0.0.1', r));
  publicPort = await freePort();
  adminPort = await freePort();
  mkdirSync(join(dir, 'policies'));
  writeFileSync(
    join(dir, 'policies', 'ci.yaml'),
    'rules:\n  - id: ci-reads-summary\n    effect: allow\n    subjects: { groups: [ci] }\n    methods: [GET]\n    routes: [/api/summary]\n',
  );
  writeFileSync(
    join(dir, 'cephgate.yaml'),
    [
      `server: { listen: { host: 127.0.0.1, port: ${publicPort} }, shutdown_grace_ms: 5000 }`,
      `admin: { listen: { host: 127.0.0.1, port: ${adminPort} } }`,
      'logging: { level: warn, format: json }',
      'ceph:',
      '  clusters:',
      '    - name: main',
      `      dashboards: ["http://127.0.0.1:${(stub.address() as AddressInfo).port}"]`,
      '      release: pacific',
      '      accounts: [{ name: svc, username: svc, password_env: CG_SERVE_TEST_PW }]',
      '      default_account: svc',
      `policy: { dir: ${join(dir, 'policies')}, watch: false }`,
      `audit: { pglite_dir: ${join(dir, 'audit')} }`,
      '',
    ].join('\n'),
  );
  const created = await run(process.execPath, [
    '--import',
    'tsx',
    'src/cli.ts',
    'apikey',
    'create',
    '--name',
    'ci',
    '--groups',
    'ci',
    '--config',
    join(dir, 'cephgate.yaml'),
  ]);
  key = created.stdout.trim();
});

after(async () => {
  child?.kill('SIGKILL');
  await new Promise<void>((r) => stub.close(() => r()));
  rmSync(dir, { recursive: true, force: true });
});

test('serve from a config file answers, then shuts down gracefully on SIGTERM', async () => {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'serve', '--config', join(dir, 'cephgate.yaml')], {
    env: { ...process.env, CG_SERVE_TEST_PW: 'not-a-real-password' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child = proc;
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));

  let ready = false;
  for (let i = 0; i < 120 && !ready; i++) {
    ready = await fetch(`http://127.0.0.1:${adminPort}/readyz`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (!ready) await new Promise((r) => setTimeout(r, 250));
  }
  assert.ok(ready, 'ready on the admin listener');

  const url = `http://127.0.0.1:${publicPort}/api/summary`;
  const slow = fetch(url, { headers: { authorization: `Bearer ${key}` } });
  await new Promise((r) => setTimeout(r, 400));
  proc.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 200));
  const refused = await fetch(url, { headers: { authorization: `Bearer ${key}` } }).then(
    () => false,
    () => true,
  );
  assert.ok(refused, 'no new connections after SIGTERM');
  const res = await slow;
  assert.equal(res.status, 200, 'the request in flight finished');
  assert.deepEqual(await res.json(), { health_status: 'HEALTH_OK' });
  assert.equal(await exited, 0);
  child = null;
});
