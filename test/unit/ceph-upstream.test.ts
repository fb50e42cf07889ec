// The Ceph Upstream with an in-test forwarder and dispatcher: headers sent, retries taken, headers returned.

import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, test } from 'node:test';
import { UnsecuredJWT } from 'jose';
import type { Dispatcher } from 'undici';
import { loadCatalogue } from '../../src/ceph/catalogue.ts';
import { releaseFromSpec, releaseFromVersionString } from '../../src/ceph/release.ts';
import { stripLoginTtl } from '../../src/ceph/request-prep.ts';
import { createCephUpstream } from '../../src/ceph/upstream.ts';
import { type CephConfig, cephConfigSchema } from '../../src/config/ceph.ts';
import { GatewayError } from '../../src/core/errors.ts';
import type { UpstreamRequest, UpstreamResponse } from '../../src/core/upstream.ts';
import type { ForwardOptions } from '../../src/proxy/forward.ts';

const A = 'http://127.0.0.1:7001';
const B = 'http://127.0.0.1:7002';
const silent = { debug() {}, info() {}, warn() {}, error() {} };
const reef = loadCatalogue('reef');
const op = (method: string, template: string) => reef.byTemplate(template).find((o) => o.method === method) ?? null;

type Handler = (o: ForwardOptions) => { status: number; headers?: Record<string, string | string[]>; body?: string } | Error;

function setup(handler: Handler, opts: { active?: () => string; accounts?: boolean } = {}) {
  const calls: ForwardOptions[] = [];
  const warnings: string[] = [];
  let n = 0;
  const active = opts.active ?? (() => A);
  const dispatcher = {
    request: async (o: { origin: string }) => ({
      statusCode: o.origin === active() ? 401 : 303,
      headers: { location: `${active()}/` },
      body: { dump: async () => {} },
    }),
    close: async () => {},
  } as unknown as Dispatcher;
  const forward = async (o: ForwardOptions): Promise<UpstreamResponse> => {
    calls.push(o);
    if (o.path === '/api/auth' && o.body !== null && JSON.parse(o.body.toString()).username === 'svc') {
      n++;
      const token = new UnsecuredJWT({ n }).setIssuedAt().setExpirationTime('8h').encode();
      return { status: 201, headers: { 'set-cookie': `token=${token}` }, body: Readable.from([JSON.stringify({ token })]) };
    }
    const r = handler(o);
    if (r instanceof Error) throw r;
    return { status: r.status, headers: r.headers ?? {}, body: Readable.from([r.body ?? '{}']) };
  };
  const config: CephConfig = cephConfigSchema.parse({
    clusters: [
      {
        name: 'c1',
        dashboards: [A, B],
        release: 'reef',
        accounts: opts.accounts === false ? [] : [{ name: 'svc', username: 'svc', password: 'pw' }],
        ...(opts.accounts === false ? {} : { default_account: 'svc' }),
        failover: { health_interval_ms: 0, wait_ms: 500 },
      },
    ],
  });
  const up = createCephUpstream(config, {
    forward,
    createDispatcher: () => dispatcher,
    log: { ...silent, warn: (_o: object, msg?: string) => void warnings.push(msg ?? '') },
  });
  const apiCalls = () => calls.filter((c) => c.path !== '/api/auth');
  const logins = () => calls.filter((c) => c.path === '/api/auth').length;
  return { up, calls, apiCalls, logins, warnings };
}

const req = (r: Partial<UpstreamRequest> & Pick<UpstreamRequest, 'method' | 'pathAndQuery'>): UpstreamRequest => ({
  requestId: 'r1',
  cluster: 'c1',
  cephAccount: null,
  headers: { 'content-type': 'application/json', cookie: 'token=client', authorization: 'Bearer client' },
  body: null,
  operation: op(r.method, r.pathAndQuery.split('?')[0] as string),
  clientAccept: 'application/json',
  ...r,
});

describe('ceph upstream', () => {
  test('plain-JSON client: negotiated Accept, service token, JSON Content-Type back, no Set-Cookie', async () => {
    const { up, apiCalls } = setup(() => ({ status: 200, headers: { 'content-type': 'application/vnd.ceph.api.v2.0+json', 'set-cookie': 'token=x' } }));
    const res = await up.send(req({ method: 'GET', pathAndQuery: '/api/block/image?pool_name=rbd' }));
    const sent = apiCalls()[0];
    assert.equal(sent?.headers.accept, 'application/vnd.ceph.api.v2.0+json');
    assert.match(String(sent?.headers.authorization), /^Bearer ey/);
    assert.equal(sent?.headers.cookie, undefined);
    assert.equal(sent?.path, '/api/block/image?pool_name=rbd');
    assert.equal(sent?.origin, A);
    assert.equal(res.headers['content-type'], 'application/json');
    assert.equal(res.headers['set-cookie'], undefined);
  });

  test('client-sent Ceph version passes through and keeps its Content-Type', async () => {
    const { up, apiCalls } = setup(() => ({ status: 200, headers: { 'content-type': 'application/vnd.ceph.api.v1.3+json' } }));
    const res = await up.send(req({ method: 'GET', pathAndQuery: '/api/host', clientAccept: 'application/vnd.ceph.api.v1.0+json' }));
    assert.equal(apiCalls()[0]?.headers.accept, 'application/vnd.ceph.api.v1.0+json');
    assert.equal(res.headers['content-type'], 'application/vnd.ceph.api.v1.3+json');
  });

  test('401 costs exactly one re-login and one resend; a second 401 is returned', async () => {
    let seen = 0;
    const { up, apiCalls, logins } = setup(() => (seen++ === 0 ? { status: 401 } : { status: 200 }));
    assert.equal((await up.send(req({ method: 'GET', pathAndQuery: '/api/pool' }))).status, 200);
    assert.equal(logins(), 2);
    assert.notEqual(apiCalls()[0]?.headers.authorization, apiCalls()[1]?.headers.authorization);
    const always = setup(() => ({ status: 401 }));
    assert.equal((await always.up.send(req({ method: 'GET', pathAndQuery: '/api/pool' }))).status, 401);
    assert.equal(always.logins(), 2);
    assert.equal(always.apiCalls().length, 2);
  });

  test('415 naming the endpoint version: learned, retried once, logged once', async () => {
    const h: Handler = (o) =>
      o.headers.accept === 'application/vnd.ceph.api.v1.1+json'
        ? { status: 200 }
        : { status: 415, body: JSON.stringify({ detail: "Incorrect version: endpoint is '1.1', client requested '1.0'" }) };
    const { up, apiCalls, warnings } = setup(h);
    assert.equal((await up.send(req({ method: 'GET', pathAndQuery: '/api/pool' }))).status, 200);
    assert.equal((await up.send(req({ method: 'GET', pathAndQuery: '/api/pool' }))).status, 200);
    assert.deepEqual(
      apiCalls().map((c) => c.headers.accept),
      ['application/vnd.ceph.api.v1.0+json', 'application/vnd.ceph.api.v1.1+json', 'application/vnd.ceph.api.v1.1+json'],
    );
    assert.equal(warnings.filter((w) => w.includes('learned')).length, 1);
  });

  test('body-less POST gets Content-Length: 0; a JSON body its own length', async () => {
    const { up, apiCalls } = setup(() => ({ status: 200 }));
    await up.send(req({ method: 'POST', pathAndQuery: '/api/mgr/module/dashboard/enable' }));
    assert.equal(apiCalls()[0]?.headers['content-length'], '0');
    await up.send(req({ method: 'POST', pathAndQuery: '/api/pool', body: Buffer.from('{"pool":"p"}') }));
    assert.equal(apiCalls()[1]?.headers['content-length'], '12');
  });

  test('a login forwarded through the gateway loses ttl and carries no service token', async () => {
    const { up, calls } = setup(() => ({ status: 201 }));
    await up.send(req({ method: 'POST', pathAndQuery: '/api/auth', body: Buffer.from('{"username":"u","password":"p","ttl":9999}') }));
    assert.equal(calls.length, 1); // unauthenticated operation: no service login either
    assert.deepEqual(JSON.parse(String(calls[0]?.body)), { username: 'u', password: 'p' });
    assert.equal(calls[0]?.headers.authorization, undefined);
    assert.equal(stripLoginTtl(Buffer.from('not json'))?.toString(), 'not json');
  });

  test('refused connection: fail over to the other mgr, once', async () => {
    let active = A;
    const refused = () => new GatewayError(502, 'upstream_unreachable', 'x', { cause: Object.assign(new Error('connect'), { code: 'ECONNREFUSED' }) });
    const { up, apiCalls } = setup(
      (o) => {
        if (o.origin !== A) return { status: 200 };
        active = B;
        return refused();
      },
      { active: () => active },
    );
    const res = await up.send(req({ method: 'POST', pathAndQuery: '/api/pool', body: Buffer.from('{}') }));
    assert.equal(res.status, 200);
    assert.deepEqual(
      apiCalls().map((c) => c.origin),
      [A, B],
    );
  });

  test('reset connection: a POST is not retried (it may have run), a GET is', async () => {
    let active = A;
    const reset = () => new GatewayError(502, 'upstream_unreachable', 'x', { cause: Object.assign(new Error('reset'), { code: 'ECONNRESET' }) });
    const s = setup(
      (o) => {
        if (o.origin !== A) return { status: 200 };
        active = B;
        return reset();
      },
      { active: () => active },
    );
    await assert.rejects(
      s.up.send(req({ method: 'POST', pathAndQuery: '/api/pool', body: Buffer.from('{}') })),
      (e) => e instanceof GatewayError && e.status === 502,
    );
    active = A;
    assert.equal((await s.up.send(req({ method: 'GET', pathAndQuery: '/api/pool' }))).status, 200);
  });

  test('a standby redirect is followed internally, never returned', async () => {
    let active = A;
    const { up, apiCalls } = setup(
      (o) => {
        if (o.origin !== A) return { status: 200 };
        active = B;
        return { status: 303, headers: { location: `${B}/api/pool` } };
      },
      {
        active: () => active,
      },
    );
    assert.equal((await up.send(req({ method: 'DELETE', pathAndQuery: '/api/pool/p' }))).status, 200);
    assert.equal(apiCalls().length, 2);
  });

  test('a standby\'s HTML "no active mgr" page (200) is never returned for an API path', async () => {
    let active = A;
    const { up, apiCalls } = setup(
      (o) => {
        if (o.origin !== A) return { status: 200, headers: { 'content-type': 'application/vnd.ceph.api.v1.0+json' } };
        active = B;
        return { status: 200, headers: { 'content-type': 'text/html;charset=utf-8' }, body: '<html>no active mgr</html>' };
      },
      { active: () => active },
    );
    const res = await up.send(req({ method: 'GET', pathAndQuery: '/api/pool' }));
    assert.equal(res.headers['content-type'], 'application/json');
    assert.equal(apiCalls().length, 2);
  });

  test('no account to serve the request: 503 ceph_unavailable', async () => {
    const { up } = setup(() => ({ status: 200 }), { accounts: false });
    await assert.rejects(
      up.send(req({ method: 'GET', pathAndQuery: '/api/pool' })),
      (e) => e instanceof GatewayError && e.status === 503 && e.code === 'ceph_unavailable',
    );
  });
});

describe('release detection', () => {
  test('from the version string', () => {
    assert.equal(releaseFromVersionString('ceph version 16.2.15 (618f4401) pacific (stable)'), 'pacific');
    assert.equal(releaseFromVersionString('ceph version 18.2.7 (abc) reef (stable)'), 'reef');
    assert.equal(releaseFromVersionString('ceph version 20.2.4 (abc) tentacle (stable)'), 'tentacle');
    assert.equal(releaseFromVersionString('nope'), null);
  });
  test('from a served spec', () => {
    for (const r of ['pacific', 'reef', 'tentacle'] as const) {
      const paths: Record<string, Record<string, object>> = {};
      for (const o of loadCatalogue(r).operations) paths[o.template] = { ...paths[o.template], [o.method.toLowerCase()]: {} };
      assert.equal(releaseFromSpec({ paths }), r);
    }
    assert.equal(releaseFromSpec({ paths: { '/x': { get: {} } } }), null);
  });
});
