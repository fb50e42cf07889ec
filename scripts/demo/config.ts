// The demo's cephgate.yaml: the throwaway Ceph, the dev IdP, the example policies and a PGlite audit
// store under the demo dir. Written to disk and loaded through the real loader, so it is a config
// a newcomer can read and run with `cephgate serve --config` (secrets come from the environment).

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { DemoAccount } from './ceph.ts';

export interface DemoConfigInput {
  readonly dir: string;
  readonly port: number;
  readonly adminPort: number;
  readonly dashboards: readonly string[];
  readonly accounts: readonly DemoAccount[];
  readonly issuer: string;
  readonly browserClientId: string;
}

/** Environment variables the demo config reads its browser-login secrets from. */
export const CLIENT_SECRET_ENV = 'CEPHGATE_DEMO_CLIENT_SECRET';
export const SESSION_KEY_ENV = 'CEPHGATE_DEMO_SESSION_KEY';

export function demoConfig(i: DemoConfigInput): Record<string, unknown> {
  const publicUrl = `http://127.0.0.1:${i.port}`;
  return {
    server: { listen: { host: '127.0.0.1', port: i.port }, public_url: publicUrl },
    admin: { listen: { host: '127.0.0.1', port: i.adminPort } },
    logging: { level: 'info', format: 'json' },
    ceph: {
      clusters: [
        {
          name: 'demo',
          dashboards: [...i.dashboards],
          // Detected from the dashboard's own /docs/openapi.json at start-up.
          release: 'auto',
          accounts: i.accounts.map((a) => ({ name: a.name, username: a.username, password_env: a.env })),
        },
      ],
    },
    identity: {
      issuers: [{ name: 'dev', issuer: i.issuer, audiences: ['cephgate'] }],
      // Takes effect once build.ts mounts the browser routes; the schema accepts it either way.
      browser_login: {
        enabled: true,
        issuer: 'dev',
        client_id: i.browserClientId,
        client_secret_env: CLIENT_SECRET_ENV,
        scopes: 'openid profile email groups',
      },
      sessions: { encryption_key_env: SESSION_KEY_ENV },
    },
    policy: { dir: 'policies', watch: true },
    audit: { pglite_dir: join(i.dir, 'audit') },
  };
}

/** Writes the config with a header saying how to run it; returns its path. */
export function writeDemoConfig(dir: string, raw: Record<string, unknown>, accounts: readonly DemoAccount[]): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, 'cephgate.yaml');
  const envs = [...accounts.map((a) => a.env), CLIENT_SECRET_ENV, SESSION_KEY_ENV];
  const header = [
    '# Written by `npm run demo` for its throwaway Ceph and dev IdP; regenerated on every run.',
    `# Secrets are read from the environment: ${envs.join(', ')}.`,
    '# While the demo runs, the gateway holds the PGlite directory below: stop the demo before',
    `# running \`npx tsx src/cli.ts audit verify --config ${path}\`.`,
  ];
  writeFileSync(path, `${header.join('\n')}\n${stringify(raw)}`);
  return path;
}
