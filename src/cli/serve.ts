// `cephgate serve`: load the configuration, build the gateway, listen on the public and admin
// listeners, reload policies on SIGHUP, shut down gracefully on SIGTERM/SIGINT.

import { buildGateway } from '../server/build.ts';
import { closeGracefully, createAdminServer, createPublicServer, listen } from '../server/listeners.ts';
import { createLogger } from '../telemetry/logger.ts';
import { config, parse } from './common.ts';
import { HELP } from './usage.ts';

export async function serveCommand(args: string[]): Promise<number> {
  const { values } = parse(args, {});
  if (values.help) {
    console.log(HELP.serve);
    return 0;
  }
  const loaded = config(values.config);
  const cfg = loaded.config;
  const log = createLogger(cfg.logging);
  log.info({ config: loaded.source }, 'starting cephgate');
  const gw = await buildGateway(cfg, log);
  const server = createPublicServer(gw.listener, cfg, log);
  const pub = await listen(server, cfg.server.listen.host, cfg.server.listen.port);
  const admin = cfg.admin.enabled ? createAdminServer(gw.admin) : null;
  const adm = admin ? await listen(admin, cfg.admin.listen.host, cfg.admin.listen.port) : null;
  log.info(
    {
      public: `${cfg.server.tls ? 'https' : 'http'}://${pub.host}:${pub.port}`,
      admin: adm ? `http://${adm.host}:${adm.port}` : 'disabled',
      policy_version: gw.policies.current.version,
    },
    'cephgate is listening',
  );

  process.on('SIGHUP', () => {
    log.info({ signal: 'SIGHUP' }, 'reloading policies');
    gw.policies.reload();
  });
  return await new Promise<number>((resolve) => {
    let stopping = false;
    const stop = async (signal: string) => {
      if (stopping) return;
      stopping = true;
      log.info({ signal, grace_ms: cfg.server.shutdown_grace_ms }, 'shutting down: finishing in-flight requests');
      await Promise.all([closeGracefully(server, cfg.server.shutdown_grace_ms), admin ? closeGracefully(admin, 1000) : Promise.resolve()]);
      await gw.close().catch((err) => log.error({ err }, 'error while closing'));
      log.info({}, 'stopped');
      resolve(0);
    };
    process.once('SIGTERM', () => void stop('SIGTERM'));
    process.once('SIGINT', () => void stop('SIGINT'));
  });
}
