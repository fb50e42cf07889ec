// Starts the public app on a real socket (port 0) for integration tests, with whatever deps the
// test gives, and closes it afterwards.

import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import type { PipelineDeps } from '../../src/pipeline/deps.ts';
import { type AppOptions, createApp } from '../../src/server/app.ts';
import { createFastPath } from '../../src/server/fast-path.ts';
import { createPublicServer } from '../../src/server/listeners.ts';

export interface RunningGateway {
  readonly url: string;
  readonly port: number;
  readonly server: Server;
  close(): Promise<void>;
}

export async function startGateway(deps: PipelineDeps, opts: AppOptions = {}): Promise<RunningGateway> {
  const app = createApp(deps, opts);
  // As `cephgate serve` runs: the Ceph API on the fast path, the gateway's own pages on hono.
  const server = createPublicServer(app, deps.config, deps.log, createFastPath(deps, { nativeLogin: false }));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    server,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
