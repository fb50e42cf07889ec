// A recording pass-through proxy placed between the gateway and the real Ceph dashboard, so a test
// can see exactly what the gateway sent to Ceph (bodies, Authorization) while Ceph answers for real.

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pipeline } from 'node:stream/promises';
import { request } from 'undici';

export interface Recorded {
  readonly method: string;
  readonly url: string;
  readonly authorization: string | undefined;
  readonly body: Buffer;
  /** When it arrived (Date.now()). */
  readonly at: number;
}

export interface RecordingProxy {
  readonly url: string;
  readonly received: Recorded[];
  close(): Promise<void>;
}

export async function startRecordingProxy(target: string): Promise<RecordingProxy> {
  const received: Recorded[] = [];
  const server: Server = createServer(async (req, res) => {
    const at = Date.now();
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    received.push({ method: req.method ?? '', url: req.url ?? '', authorization: req.headers.authorization, body, at });
    try {
      const headers = { ...req.headers };
      delete headers.host;
      delete headers.connection;
      const up = await request(`${target}${req.url}`, { method: req.method as 'GET', headers, body: body.length > 0 ? body : null });
      res.writeHead(up.statusCode, up.headers as Record<string, string>);
      await pipeline(up.body, res);
    } catch {
      res.destroy();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
