// A fast stand-in for the Ceph dashboard (plain node:http), run as its own process by the bench: serves the
// recorded answers (bench/fixtures), issues HS256 tokens on POST /api/auth, and answers like Ceph does when
// the token or the Accept version is missing, so a gateway that skips token injection or version rewrite fails loudly.

import { createHmac, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Fixture, loadFixtures } from './fixtures.ts';
import { announce } from './proc.ts';

const fx = loadFixtures();
const secret = randomBytes(32);
const issued = new Set<string>();
const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

/** Ceph's token shape (docs/ceph-facts.md): HS256, iss ceph-dashboard, jti/exp/iat/username, 8 h lifetime. */
function issueToken(username: string): string {
  const iat = Math.floor(Date.now() / 1000);
  const head = `${b64({ typ: 'JWT', alg: 'HS256' })}.${b64({ iss: 'ceph-dashboard', jti: randomBytes(8).toString('hex'), exp: iat + 28800, iat, username })}`;
  const token = `${head}.${createHmac('sha256', secret).update(head).digest('base64url')}`;
  issued.add(token);
  return token;
}

/** Precomputed answer: body bytes and header list, so serving one costs no per-request work. */
interface Answer {
  readonly status: number;
  readonly body: Buffer;
  readonly headers: string[];
}
const answer = (f: Pick<Fixture, 'status' | 'headers' | 'body'>): Answer => {
  const body = Buffer.from(f.body);
  const headers = ['Content-Type', f.headers['content-type'] ?? 'application/json', 'Content-Length', String(body.length)];
  return { status: f.status, body, headers };
};
const json = (status: number, v: unknown) => answer({ status, headers: { 'content-type': 'application/json' }, body: JSON.stringify(v) });

const ROUTES = new Map<string, Answer>([
  ['GET /api/pool', answer(fx['pool-list'])],
  ['GET /api/health/full', answer(fx['health-full'])],
  ['GET /api/block/image', answer(fx['rbd-image-list'])],
  ['POST /api/block/image', answer(fx['rbd-image-create'])],
]);
const UNAUTHORIZED = json(401, { detail: 'You are not authorized to access that resource', code: 'not_authorized', component: null });
const NOT_FOUND = json(404, { detail: 'The path was not found.', code: 'not_found', component: null });
const BAD_VERSION = json(415, { detail: 'Incorrect version: client requested no Ceph API version', code: 'unsupported_media_type', component: null });
const CEPH_ACCEPT = /^application\/vnd\.ceph\.api\.v\d+\.\d+\+json$/;

function send(res: ServerResponse, a: Answer): void {
  res.writeHead(a.status, a.headers);
  res.end(a.body);
}

function login(req: IncomingMessage, res: ServerResponse): void {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    let username = 'admin';
    try {
      username = String((JSON.parse(Buffer.concat(chunks).toString('utf8')) as { username?: unknown }).username ?? 'admin');
    } catch {
      // Ceph answers 400 to a malformed login; the bench never sends one.
    }
    const recorded = JSON.parse(fx['auth-login'].body) as Record<string, unknown>;
    send(res, answer({ ...fx['auth-login'], body: JSON.stringify({ ...recorded, token: issueToken(username), username }) }));
  });
}

const server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const key = `${req.method} ${q < 0 ? url : url.slice(0, q)}`;
  if (key === 'POST /api/auth') return login(req, res);
  // Drain request bodies (mutations) before answering, as cherrypy does.
  req.resume();
  const auth = req.headers.authorization;
  if (auth === undefined || !issued.has(auth.slice(7))) return send(res, UNAUTHORIZED);
  if (!CEPH_ACCEPT.test(req.headers.accept ?? '')) return send(res, BAD_VERSION);
  send(res, ROUTES.get(key) ?? NOT_FOUND);
});

server.listen(0, '127.0.0.1', () => {
  // Baselines (B0-B2) forward the client's credential unchanged, so the load generator needs one token up front.
  announce({ port: (server.address() as AddressInfo).port, token: issueToken('bench') });
});
