// Starts the public app on a real socket (port 0) for integration tests, with whatever deps the
// test gives, and closes it afterwards.

import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RequestTracer } from '../../src/core/trace.ts';
import type { PipelineDeps } from '../../src/pipeline/deps.ts';
import { createProxyHandler } from '../../src/pipeline/handle.ts';
import { createPublicServer, webRequestListener } from '../../src/server/listeners.ts';
import { createRequestListener } from '../../src/server/request-listener.ts';
import { type AppOptions, createWebApp } from '../../src/web/app.ts';

export interface RunningGateway {
  readonly url: string;
  readonly port: number;
  readonly server: Server;
  close(): Promise<void>;
}

export async function startGateway(deps: PipelineDeps, opts: AppOptions & { readonly tracer?: RequestTracer } = {}): Promise<RunningGateway> {
  // As `cephgate serve` runs: the Ceph API through the pipeline, the gateway's own pages on the web app.
  const web = webRequestListener(createWebApp(deps, opts), deps.log);
  const server = createPublicServer(
    createRequestListener({ ...deps, proxy: createProxyHandler(deps), web, uiAtRoot: false, tracer: opts.tracer ?? null }),
    deps.config,
    deps.log,
  );
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
