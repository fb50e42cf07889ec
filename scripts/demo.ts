// `npm run demo`: a real throwaway Ceph, the dev OIDC provider with demo users and the gateway (example
// policies, PGlite audit) on loopback, then what to try. Ctrl-C tears it all down. `--non-interactive`
// runs the printed curl lines, checks each status, prints a summary and exits 0/1 (used by a test).

import { randomBytes } from 'node:crypto';
import { createWriteStream, rmSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import type { Server } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config/load.ts';
import { buildGateway } from '../src/server/build.ts';
import { closeGracefully, createAdminServer, createPublicServer, listen } from '../src/server/listeners.ts';
import { createLogger, logDestination } from '../src/telemetry/logger.ts';
import { freePorts } from './ceph/support.ts';
import { ensureCephInstalled, startDemoCeph } from './demo/ceph.ts';
import { type DemoUserName, demoChecks, runChecks } from './demo/checks.ts';
import { CLIENT_SECRET_ENV, demoConfig, SESSION_KEY_ENV, writeDemoConfig } from './demo/config.ts';
import { guideText, summaryText } from './demo/guide.ts';
import { DEMO_USERS } from './dev-idp/accounts.ts';
import { startDevIdp } from './dev-idp/provider.ts';

const USAGE = `usage: npm run demo -- [--port N] [--dir DIR] [--non-interactive]
  --port N            public port of the gateway (default 8080, or a free one when 8080 is taken)
  --dir DIR           demo state: config, audit store, logs (default .cephgate/demo; wiped at start)
  --non-interactive   run the printed curl lines, check their statuses, print a summary, exit 0/1`;

const say = (line: string) => console.error(`[demo] ${line}`);

/** Cleanups run in reverse order of start, once, on Ctrl-C, on failure or at the end. */
const cleanups: Array<[string, () => Promise<unknown>]> = [];
let tearingDown: Promise<void> | null = null;
function teardown(): Promise<void> {
  tearingDown ??= (async () => {
    for (const [what, fn] of cleanups.splice(0).reverse()) {
      await fn().catch((err: Error) => say(`stopping ${what} failed: ${err.message}`));
    }
  })();
  return tearingDown;
}

async function pickPorts(wanted: number | null): Promise<[number, number]> {
  const [a, b, c] = await freePorts(3);
  if (wanted !== null) return [wanted, a as number];
  // 8080 when free, so the printed lines look familiar; a free port otherwise.
  const free8080 = await new Promise<boolean>((r) => {
    const s = createNetServer();
    s.once('error', () => r(false));
    s.listen(8080, '127.0.0.1', () => s.close(() => r(true)));
  });
  return free8080 ? [8080, b as number] : [c as number, b as number];
}

const OPTIONS = {
  port: { type: 'string' },
  dir: { type: 'string' },
  'non-interactive': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Resolves on the first Ctrl-C / SIGTERM; a signal during start-up tears down what is up and exits. */
let running = false;
const stopRequested = new Promise<string>((resolve) => {
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      resolve(sig);
      if (!running) {
        say(`${sig} during start-up: stopping what is up`);
        void teardown().then(() => process.exit(130));
      }
    });
  }
});

async function main(): Promise<number> {
  let args: ReturnType<typeof parseArgs<{ options: typeof OPTIONS; strict: true }>>;
  try {
    args = parseArgs({ options: OPTIONS, strict: true });
  } catch (err) {
    console.error(`demo: ${(err as Error).message.split('\n')[0]}\n${USAGE}`);
    return 2;
  }
  if (args.values.help) {
    console.log(USAGE);
    return 0;
  }
  const port = args.values.port === undefined ? null : Number(args.values.port);
  if (port !== null && !(Number.isInteger(port) && port > 0 && port < 65536)) {
    console.error(`demo: --port must be 1-65535\n${USAGE}`);
    return 2;
  }
  const nonInteractive = args.values['non-interactive'] === true;
  const dir = resolve(args.values.dir ?? '.cephgate/demo');

  const missing = ensureCephInstalled(say);
  if (missing !== null) {
    console.error(`demo: Ceph is not installed: ${missing}`);
    return 2;
  }
  rmSync(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const cephLog = createWriteStream(join(dir, 'ceph.log'));
  cleanups.push(['the Ceph log', () => new Promise((r) => cephLog.end(r))]);

  say('starting a throwaway Ceph (mon, mgr with the dashboard, memstore OSD): 10-60 s');
  const { cluster, accounts } = await startDemoCeph((line) => cephLog.write(`${line}\n`));
  cleanups.push(['Ceph', () => cluster.stop()]);
  const dashboard = await cluster.activeDashboardUrl();
  say(`Ceph is up at ${dashboard}; accounts ${accounts.map((a) => `${a.name}=${a.username} (${a.role})`).join(', ')}`);

  const [pubPort, adminPort] = await pickPorts(port);
  const pub = `http://127.0.0.1:${pubPort}`;
  const idp = await startDevIdp({ port: 0, redirectUris: [`${pub}/gateway/callback`], postLogoutRedirectUris: [`${pub}/gateway/`], tokenTtlSeconds: 3600 });
  cleanups.push(['the dev IdP', () => idp.stop()]);
  say(`dev OIDC provider at ${idp.issuer}`);

  // Secrets reach the gateway the way they would in production: through the environment.
  for (const a of accounts) process.env[a.env] = a.password;
  process.env[CLIENT_SECRET_ENV] = idp.browserClient.clientSecret;
  process.env[SESSION_KEY_ENV] = randomBytes(32).toString('base64');
  const raw = demoConfig({
    dir,
    port: pubPort,
    adminPort,
    dashboards: cluster.dashboardUrls,
    accounts,
    issuer: idp.issuer,
    browserClientId: idp.browserClient.clientId,
  });
  const configPath = writeDemoConfig(dir, raw, accounts);
  const { config } = loadConfig({ path: configPath });

  const logPath = join(dir, 'gateway.log');
  const log = createLogger(config.logging, logDestination(config.logging, logPath));
  const gateway = await buildGateway(config, log);
  cleanups.push(['the gateway', () => gateway.close()]);
  const servers: Server[] = [createPublicServer(gateway.listener, config, log), createAdminServer(gateway.admin)];
  cleanups.push(['the listeners', () => Promise.all(servers.map((s) => closeGracefully(s, 2000)))]);
  await listen(servers[0] as Server, '127.0.0.1', pubPort);
  await listen(servers[1] as Server, '127.0.0.1', adminPort);
  const admin = `http://127.0.0.1:${adminPort}`;

  // Browser login counts as wired when /gateway/login redirects to the IdP.
  const login = await fetch(`${pub}/gateway/login`, { redirect: 'manual' });
  const browserLogin = (login.status === 302 || login.status === 303) && (login.headers.get('location') ?? '').startsWith(idp.issuer);
  await login.body?.cancel();

  const users = Object.keys(DEMO_USERS) as DemoUserName[];
  const tokens = Object.fromEntries(await Promise.all(users.map(async (u) => [u, await idp.tokenFor(u)] as const))) as Record<DemoUserName, string>;
  const groups = Object.fromEntries(users.map((u) => [u, DEMO_USERS[u]?.groups ?? []])) as Record<DemoUserName, readonly string[]>;
  const checks = demoChecks({ browserLogin });
  const version = (await cluster.ceph(['version']).catch(() => ''))
    .trim()
    .replace(/^ceph version /, '')
    .replace(/ \([0-9a-f]+\)/, '');
  console.log(
    guideText({
      pub,
      admin,
      issuer: idp.issuer,
      tokens,
      groups,
      checks,
      browserLogin,
      configPath,
      logPath,
      dashboard,
      auditDir: config.audit.pglite_dir,
      release: version || 'unknown version',
    }),
  );

  if (nonInteractive) {
    const env = { ...process.env, ...Object.fromEntries(users.map((u) => [u.toUpperCase(), tokens[u]])) };
    const results = await runChecks(checks, { pub, admin }, env);
    console.log(summaryText(results));
    return results.every((r) => r.ok) ? 0 : 1;
  }
  running = true;
  const signal = await stopRequested;
  say(`${signal}: stopping the gateway, the dev IdP and the Ceph daemons`);
  return 0;
}

void main()
  .catch((err: Error) => {
    console.error(`demo: ${err.message}`);
    return 1;
  })
  .then(async (code) => {
    await teardown();
    process.exit(code);
  });
