// One gateway process: build it, listen, reload policies on SIGHUP, and on SIGTERM/SIGINT stop
// accepting, finish in-flight requests and close. `serve` runs it alone, or once per worker
// (server/workers.ts), where the primary serves the admin listener and is told when this one listens.

import type { Config } from '../config/schema.ts';
import type { Logger } from '../core/logger.ts';
import { buildGateway } from '../server/build.ts';
import { closeGracefully, createAdminServer, createPublicServer, listen } from '../server/listeners.ts';
import { serveAsWorker } from '../server/workers.ts';

export async function runGateway(cfg: Config, log: Logger, opts: { readonly worker: boolean }): Promise<number> {
  const gw = await buildGateway(cfg, log);
  const server = createPublicServer(gw.listener, cfg, log);
  let admin: ReturnType<typeof createAdminServer> | null = null;
  try {
    const pub = await listen(server, cfg.server.listen.host, cfg.server.listen.port);
    admin = cfg.admin.enabled ? createAdminServer(gw.admin) : null;
    const adm = admin ? await listen(admin, cfg.admin.listen.host, cfg.admin.listen.port) : null;
    const publicUrl = `${cfg.server.tls ? 'https' : 'http'}://${pub.host}:${pub.port}`;
    log.info(
      {
        public: publicUrl,
        admin: adm ? `http://${adm.host}:${adm.port}` : opts.worker ? 'the primary' : 'disabled',
        policy_version: gw.policies.current.version,
      },
      'cephgate is listening',
    );
  } catch (err) {
    await gw.close().catch(() => undefined);
    throw err;
  }

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
    if (opts.worker) serveAsWorker(gw, `${cfg.server.listen.host}:${cfg.server.listen.port}`, (why) => void stop(why));
  });
}
