// The whole gateway as a user deploys it, for end-to-end tests: the real dev OIDC provider, the
// shared real Ceph (configured as the release under test, CEPHGATE_TEST_RELEASE), the example
// policies, the real audit store (PGlite or a throwaway Postgres database) and `buildGateway` from
// a Config, listening on real sockets.

import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { type AddressInfo, createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DevIdp, startDevIdp } from '../../scripts/dev-idp/provider.ts';
import { validateConfig } from '../../src/config/load.ts';
import type { Config } from '../../src/config/schema.ts';
import { buildGateway, type Gateway } from '../../src/server/build.ts';
import { createAdminServer, createPublicServer } from '../../src/server/listeners.ts';
import { createLogger } from '../../src/telemetry/logger.ts';
import { ensureTestAccounts, TEST_ACCOUNTS } from './ceph-cli.ts';
import { LogCapture } from './doubles.ts';
import { testEnv } from './requirements.ts';
import { throwawayDatabase } from './throwaway-database.ts';

export interface FullGatewayOptions {
  readonly store?: 'pglite' | 'postgres';
  readonly policiesDir?: string;
  /** Extra configuration merged over the generated one (top-level sections replaced shallowly per key). */
  readonly config?: (base: Record<string, unknown>) => Record<string, unknown>;
  /** Reuse an IdP (e.g. one per test file). */
  readonly idp?: DevIdp;
  /** Configure browser login (server.public_url on a port chosen up front, the IdP's redirect URIs). */
  readonly browserLogin?: boolean;
}

async function freePort(): Promise<number> {
  const s = createNetServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

export interface FullGateway {
  readonly url: string;
  readonly adminUrl: string;
  readonly port: number;
  readonly idp: DevIdp;
  readonly gateway: Gateway;
  readonly config: Config;
  readonly logs: LogCapture;
  /** A real access token of a demo user (alice: team-a, bob: team-b, carol: operators+readers, dave: auditors, erin: breakglass). */
  token(user: string): Promise<string>;
  close(): Promise<void>;
}

export async function startFullGateway(opts: FullGatewayOptions = {}): Promise<FullGateway> {
  const conf = testEnv.cephConf as string;
  await ensureTestAccounts(conf);
  const publicPort = opts.browserLogin ? await freePort() : 0;
  const publicUrl = `http://127.0.0.1:${publicPort}`;
  const idp =
    opts.idp ??
    (await startDevIdp(
      opts.browserLogin ? { port: 0, redirectUris: [`${publicUrl}/gateway/callback`], postLogoutRedirectUris: [`${publicUrl}/gateway/`] } : { port: 0 },
    ));
  const dir = mkdtempSync(join(tmpdir(), 'cephgate-e2e-'));
  const db = opts.store === 'postgres' ? await throwawayDatabase('cephgate_e2e') : null;
  const env = Object.fromEntries(TEST_ACCOUNTS.map((a) => [`CG_TEST_PW_${a.name.toUpperCase()}`, a.password]));
  Object.assign(process.env, env, db ? { CG_TEST_DATABASE_URL: db.url } : {}, {
    CG_TEST_OIDC_SECRET: idp.browserClient.clientSecret,
    CG_TEST_SESSION_KEY: randomBytes(32).toString('hex'),
  });
  let raw: Record<string, unknown> = {
    server: { listen: { host: '127.0.0.1', port: publicPort }, ...(opts.browserLogin ? { public_url: publicUrl } : {}) },
    admin: { listen: { host: '127.0.0.1', port: 0 } },
    logging: { level: 'info', format: 'json' },
    ceph: {
      clusters: [
        {
          name: 'main',
          dashboards: testEnv.cephUrls.length > 0 ? testEnv.cephUrls : [testEnv.cephUrl as string],
          release: testEnv.release,
          accounts: TEST_ACCOUNTS.map((a) => ({ name: a.name, username: a.username, password_env: `CG_TEST_PW_${a.name.toUpperCase()}` })),
        },
      ],
    },
    identity: {
      issuers: [{ name: 'dev', issuer: idp.issuer, audiences: ['cephgate'] }],
      ...(opts.browserLogin
        ? {
            browser_login: {
              enabled: true,
              issuer: 'dev',
              client_id: idp.browserClient.clientId,
              client_secret_env: 'CG_TEST_OIDC_SECRET',
              scopes: 'openid profile email groups',
            },
            sessions: { encryption_key_env: 'CG_TEST_SESSION_KEY' },
          }
        : {}),
    },
    policy: { dir: opts.policiesDir ?? 'policies', watch: false },
    audit: { ...(db ? { database_url_env: 'CG_TEST_DATABASE_URL' } : { pglite_dir: join(dir, 'audit') }), spool_dir: join(dir, 'spool') },
  };
  if (opts.config) raw = opts.config(raw);
  const config = validateConfig(raw, 'full-gateway test');
  const logs = new LogCapture();
  const log = createLogger({ level: 'info', format: 'json' }, logs);
  const gateway = await buildGateway(config, log);
  const server = createPublicServer(gateway.listener, config, log);
  const admin = createAdminServer(gateway.admin);
  await new Promise<void>((r) => server.listen(publicPort, '127.0.0.1', r));
  await new Promise<void>((r) => admin.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    adminUrl: `http://127.0.0.1:${(admin.address() as AddressInfo).port}`,
    port,
    idp,
    gateway,
    config,
    logs,
    token: (user) => idp.tokenFor(user),
    async close() {
      server.closeAllConnections();
      admin.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      await new Promise<void>((r) => admin.close(() => r()));
      await gateway.close();
      if (!opts.idp) await idp.stop();
      await db?.drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
