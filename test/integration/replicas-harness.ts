// Several real gateway processes (`cephgate serve`, as an operator runs them) on one Postgres, for the
// replicas-*.test.ts files: one configuration file per replica (own ports and spool, the same database,
// sessions key and policies), the database migrated once before they start (docs/deployment.md), each
// replica ready on its admin listener, its log lines kept, SIGTERM at the end. Also a Ceph stand-in for
// the tests that need a cluster but not a real one.

import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../../src/db/database.ts';
import { migrateDatabase } from '../../src/db/migrate.ts';

export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const p = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return p;
}

export interface Replica {
  readonly name: string;
  readonly url: string;
  readonly adminUrl: string;
  /** Its log lines (JSON), as printed so far. */
  readonly lines: string[];
}

export interface Replicas {
  readonly replicas: readonly Replica[];
  /** The configuration directory (policies, spools). */
  readonly dir: string;
  close(): Promise<void>;
}

export interface ReplicaOptions {
  readonly count: number;
  readonly databaseUrl: string;
  /** The configuration of every replica, given its public port (the listeners and audit are set here). */
  readonly config: (publicPort: number) => Record<string, unknown>;
  /** Policy files by name. */
  readonly policies: Readonly<Record<string, string>>;
  /** Environment of the processes (secrets named by `*_env`). */
  readonly env?: Readonly<Record<string, string>>;
  /** Public ports chosen up front (browser login needs its public_url before it starts). */
  readonly ports?: readonly number[];
}

async function ready(adminUrl: string, child: ChildProcess, lines: string[]): Promise<void> {
  for (let i = 0; i < 240; i++) {
    if (child.exitCode !== null) throw new Error(`replica exited ${child.exitCode}: ${lines.slice(-5).join('\n')}`);
    const ok = await fetch(`${adminUrl}/readyz`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`replica not ready: ${lines.slice(-5).join('\n')}`);
}

export async function startReplicas(o: ReplicaOptions): Promise<Replicas> {
  const dir = mkdtempSync(join(tmpdir(), 'cephgate-replicas-'));
  mkdirSync(join(dir, 'policies'));
  for (const [name, text] of Object.entries(o.policies)) writeFileSync(join(dir, 'policies', name), text);
  // Several instances: migrate once before the rollout, never racing at start-up.
  const db = await openDatabase({ url: o.databaseUrl });
  await migrateDatabase(db);
  await db.close();
  const children: ChildProcess[] = [];
  const replicas: Replica[] = [];
  try {
    await Promise.all(
      Array.from({ length: o.count }, async (_, i) => {
        const name = String.fromCharCode(65 + i);
        const port = o.ports?.[i] ?? (await freePort());
        const adminPort = await freePort();
        const base = o.config(port);
        const config = {
          ...base,
          server: { ...(base.server as object), listen: { host: '127.0.0.1', port } },
          admin: { listen: { host: '127.0.0.1', port: adminPort } },
          logging: { level: 'info', format: 'json', buffer_bytes: 0 },
          policy: { dir: join(dir, 'policies'), watch: false },
          audit: {
            ...(base.audit as object),
            database_url_env: 'CG_REPLICA_DATABASE_URL',
            migrate_on_start: false,
            spool_dir: join(dir, `spool-${name}`),
          },
        };
        const file = join(dir, `cephgate-${name}.yaml`);
        writeFileSync(file, JSON.stringify(config, null, 2)); // JSON is YAML
        const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'serve', '--config', file], {
          env: { ...process.env, ...o.env, CG_REPLICA_DATABASE_URL: o.databaseUrl },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        children.push(child);
        const lines: string[] = [];
        for (const s of [child.stdout, child.stderr]) s?.on('data', (b: Buffer) => lines.push(...b.toString('utf8').split('\n').filter(Boolean)));
        const replica = { name, url: `http://127.0.0.1:${port}`, adminUrl: `http://127.0.0.1:${adminPort}`, lines };
        await ready(replica.adminUrl, child, lines);
        replicas[i] = replica;
      }),
    );
  } catch (err) {
    for (const c of children) c.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    replicas,
    dir,
    async close() {
      await Promise.all(
        children.map(
          (c) =>
            new Promise<void>((r) => {
              if (c.exitCode !== null) return r();
              const kill = setTimeout(() => c.kill('SIGKILL'), 15_000);
              c.once('exit', () => {
                clearTimeout(kill);
                r();
              });
              c.kill('SIGTERM');
            }),
        ),
      );
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A 32-byte sessions key, as `openssl rand -hex 32` makes it. */
export const sessionKey = (): string => randomBytes(32).toString('hex');

export interface CephStandIn {
  readonly url: string;
  /** Requests that reached it, by `METHOD path`. */
  readonly received: string[];
  /** When each of `received` arrived (Date.now(), same order). */
  readonly at: number[];
  close(): Promise<void>;
}

/**
 * The few dashboard answers a gateway needs when the test is not about Ceph: the anonymous active-mgr probe
 * (401), the service-account login, and 200/201 JSON for any authenticated call.
 */
export async function startCephStandIn(): Promise<CephStandIn> {
  const exp = Math.floor(Date.now() / 1000) + 3600;
  const jwt = `${[
    { alg: 'HS256', typ: 'JWT' },
    { iss: 'ceph-dashboard', exp, iat: exp - 3600, username: 'svc' },
  ]
    .map((o) => Buffer.from(JSON.stringify(o)).toString('base64url'))
    .join('.')}.sig`;
  const received: string[] = [];
  const at: number[] = [];
  const server: Server = createHttpServer((req, res) => {
    const json = (status: number, body: unknown) => {
      const text = JSON.stringify(body);
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    };
    req.resume();
    req.on('end', () => {
      received.push(`${req.method} ${req.url}`);
      at.push(Date.now());
      if (req.url === '/api/auth' && req.method === 'POST') return json(201, { token: jwt, username: 'svc', permissions: {} });
      if (req.headers.authorization !== `Bearer ${jwt}`) return json(401, { detail: 'not authorized' });
      return req.method === 'GET' ? json(200, { ok: true }) : json(201, { ok: true });
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    at,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
