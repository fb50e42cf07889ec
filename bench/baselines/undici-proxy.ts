// B1, the Node floor: a minimal node:http + undici pass-through proxy with no checks at all. What the gateway
// costs is measured against this; nothing in it may be "optimised" beyond what a plain proxy does.

import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent } from 'undici';
import { announce } from '../proc.ts';
import { answerProfileCommands } from '../profile-hook.ts';

const origin = process.argv[2];
if (origin === undefined) throw new Error('usage: undici-proxy.ts <upstream origin>');
const agent = new Agent({ connections: 128, keepAliveTimeout: 30_000 });
const HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection', 'te', 'trailer', 'host']);

const server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
  const headers: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(req.headers)) if (v !== undefined && !HOP.has(k)) headers[k] = v;
  const hasBody = req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined;
  agent
    .request({ origin, path: req.url ?? '/', method: req.method as 'GET', headers, body: hasBody ? req : null })
    .then((up) => {
      const out: Record<string, string | string[]> = {};
      for (const [k, v] of Object.entries(up.headers)) if (v !== undefined && !HOP.has(k)) out[k] = v;
      res.writeHead(up.statusCode, out);
      up.body.pipe(res);
    })
    .catch(() => {
      res.writeHead(502).end();
    });
});

answerProfileCommands();
server.listen(0, '127.0.0.1', () => announce({ port: (server.address() as AddressInfo).port }));
