// The whole gateway (buildGateway from a Config, real sockets) for the pages' tests, with browser login
// at the real dev OIDC provider, the example policies and the real audit store (a throwaway Postgres
// database when one is reachable, else PGlite). The pages never need Ceph: the Ceph of this gateway
// is an address where nothing listens, so denied requests are recorded as always and allowed ones
// end as upstream failures. Not a test file itself (test/run.ts runs only *.test.ts).

import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { type AddressInfo, createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DevIdp, startDevIdp } from '../../scripts/dev-idp/provider.ts';
import { validateConfig } from '../../src/config/load.ts';
import { buildGateway, type Gateway } from '../../src/server/build.ts';
import { createPublicServer } from '../../src/server/listeners.ts';
import { createLogger } from '../../src/telemetry/logger.ts';
import { LogCapture } from '../support/doubles.ts';
import { testEnv } from '../support/requirements.ts';
import { throwawayDatabase } from '../support/throwaway-database.ts';

export interface PagesGateway {
  readonly url: string;
  readonly idp: DevIdp;
  readonly gateway: Gateway;
  readonly store: 'postgres' | 'pglite';
  token(user: string): Promise<string>;
  close(): Promise<void>;
}

async function freePort(): Promise<number> {
  const s = createNetServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

export async function startPagesGateway(): Promise<PagesGateway> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const idp = await startDevIdp({ port: 0, redirectUris: [`${url}/gateway/callback`], postLogoutRedirectUris: [`${url}/gateway/`] });
  const dir = mkdtempSync(join(tmpdir(), 'cephgate-pages-'));
  const db = testEnv.databaseUrl ? await throwawayDatabase('cephgate_pages') : null;
  Object.assign(process.env, {
    CG_PAGES_PW: 'unused-no-ceph-here',
    CG_PAGES_OIDC_SECRET: idp.browserClient.clientSecret,
    CG_PAGES_SESSION_KEY: randomBytes(32).toString('hex'),
    ...(db ? { CG_PAGES_DATABASE_URL: db.url } : {}),
  });
  const config = validateConfig(
    {
      server: { listen: { host: '127.0.0.1', port }, public_url: url },
      admin: { listen: { host: '127.0.0.1', port: 0 } },
      logging: { level: 'info', format: 'json' },
      ceph: {
        clusters: [
          {
            name: 'main',
            // The discard port: connections are refused at once, nothing is ever changed.
            dashboards: ['http://127.0.0.1:9'],
            release: 'pacific',
            accounts: ['reader', 'operator', 'admin'].map((name) => ({ name, username: `cg-${name}`, password_env: 'CG_PAGES_PW' })),
          },
        ],
      },
      identity: {
        issuers: [{ name: 'dev', issuer: idp.issuer, audiences: ['cephgate'] }],
        browser_login: {
          enabled: true,
          issuer: 'dev',
          client_id: idp.browserClient.clientId,
          client_secret_env: 'CG_PAGES_OIDC_SECRET',
          scopes: 'openid profile email groups',
        },
        sessions: { encryption_key_env: 'CG_PAGES_SESSION_KEY' },
      },
      policy: { dir: 'policies', watch: false },
      audit: {
        ...(db ? { database_url_env: 'CG_PAGES_DATABASE_URL' } : { pglite_dir: join(dir, 'audit') }),
        spool_dir: join(dir, 'spool'),
        checkpoint_interval_seconds: 1,
      },
    },
    'pages test',
  );
  const log = createLogger({ level: 'warn', format: 'json' }, new LogCapture());
  const gateway = await buildGateway(config, log);
  const server = createPublicServer(gateway.listener, config, log);
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return {
    url,
    idp,
    gateway,
    store: db ? 'postgres' : 'pglite',
    token: (user) => idp.tokenFor(user),
    async close() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      await gateway.close();
      await idp.stop();
      await db?.drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
