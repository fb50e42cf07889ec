// The gateway's intake and forwarder on real sockets: limits (413, 408, 431, CL+TE), upstream
// failures (502, 504), header hygiene on the way to upstream, request ids, streaming, and the
// fail-closed audit order. Later stages are simple doubles here; they are tested for real elsewhere.

import assert from 'node:assert/strict';
import { connect, createServer } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { request } from 'undici';
import { type LogCapture, MemoryAudit, staticUpstream, testConfig, testDeps } from '../support/doubles.ts';
import { type RunningGateway, startGateway } from '../support/gateway.ts';
import { rawRequest } from '../support/raw-http.ts';
import { jsonAnswer, type StubUpstream, startStubUpstream } from '../support/stub-upstream.ts';

let stub: StubUpstream;
let gw: RunningGateway;
let audit: MemoryAudit;
let logs: LogCapture;

before(async () => {
  stub = await startStubUpstream((req, res, body) => {
    if (req.url === '/api/big') {
      // 8 MiB streamed in 64 KiB chunks: proves the gateway does not buffer responses.
      res.writeHead(200, { 'Content-Type': 'application/octet-stream' });
      let sent = 0;
      const chunk = Buffer.alloc(65536, 120);
      const pump = () => {
        while (sent < 128) {
          sent++;
          if (!res.write(chunk)) return res.once('drain', pump);
        }
        res.end();
      };
      pump();
      return;
    }
    if (req.url === '/api/stall') return; // never answers
    jsonAnswer(200, { ok: true, echo: body.toString('utf8') })(req, res, body);
  });
  audit = new MemoryAudit();
  const deps = testDeps({
    config: testConfig({ limits: { max_body_bytes: 1024, header_timeout_ms: 400, body_timeout_ms: 400, max_header_bytes: 4096 } }),
    upstream: staticUpstream(stub.url, { connect: 500, headers: 300, body: 5000 }),
    audit,
  });
  logs = deps.logs;
  gw = await startGateway(deps);
});

after(async () => {
  await gw.close();
  await stub.close();
});

describe('limits', () => {
  test('an oversize body gets 413 and never reaches upstream', async () => {
    const before = stub.received.length;
    const res = await request(`${gw.url}/api/pool`, { method: 'POST', body: 'x'.repeat(2048), headers: { 'content-type': 'application/json' } });
    assert.equal(res.statusCode, 413);
    const body = (await res.body.json()) as Record<string, string>;
    assert.equal(body.code, 'body_too_large');
    assert.equal(body.status, '413 Payload Too Large');
    assert.ok(body.request_id);
    assert.equal(stub.received.length, before);
  });

  test('an oversize chunked body gets 413 too', async () => {
    const res = await rawRequest(gw.port, [
      'POST /api/pool HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\n',
      `800\r\n${'y'.repeat(0x800)}\r\n0\r\n\r\n`,
    ]);
    assert.equal(res.status, 413);
    assert.equal(JSON.parse(res.body).code, 'body_too_large');
  });

  // Issue 18 item 7: a client still uploading when the 413 is sent must be able to read it. Closing the
  // socket at once makes the kernel answer the client's next bytes with a reset, and the reset throws
  // away the 413 waiting unread in the client's receive buffer. This client reads nothing until it has
  // written all 5 MiB (the worst case of a busy client), then reads: the 413 must be there.
  test('a client that reads only after sending an oversize body still reads the 413 (no reset)', async () => {
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(gw.port, '127.0.0.1');
      socket.pause();
      const body = Buffer.alloc(5 * 1024 * 1024, 120);
      socket.write(`POST /api/pool HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`);
      socket.write(body, (err) => {
        if (err) return reject(new Error(`the gateway reset the upload: ${err.message}`));
        // Everything written (and so received by the gateway's kernel); now read what came back.
        setTimeout(() => {
          let text = '';
          socket.on('data', (d) => {
            text += d.toString('latin1');
          });
          socket.on('error', (e) => reject(new Error(`reset before the answer was read: ${e.message}; read ${JSON.stringify(text.slice(0, 80))}`)));
          socket.on('close', () => resolve(text));
          socket.resume();
        }, 200);
      });
    });
    assert.match(answer, /^HTTP\/1\.1 413 /);
    assert.match(answer, /"code":"body_too_large"/);
  });

  test("Node's fetch sending 5 MiB twenty times reads the 413 every time", async () => {
    const body = Buffer.alloc(5 * 1024 * 1024, 120);
    for (let i = 0; i < 20; i++) {
      const res = await fetch(`${gw.url}/api/pool`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
      assert.equal(res.status, 413, `attempt ${i}`);
      assert.equal(((await res.json()) as { code: string }).code, 'body_too_large');
    }
  });

  test('a slow header gets 408 in Ceph error shape', async () => {
    const res = await rawRequest(gw.port, ['GET /api/pool HTTP/1.1\r\nHost: x\r\n', { pauseMs: 2000 }, 'X-Late: 1\r\n\r\n']);
    assert.equal(res.status, 408);
    assert.equal(JSON.parse(res.body).code, 'request_timeout');
  });

  test('a slow body gets 408', async () => {
    const res = await rawRequest(gw.port, ['POST /api/pool HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc', { pauseMs: 1500 }, 'defghij']);
    assert.equal(res.status, 408);
    assert.equal(JSON.parse(res.body).code, 'request_timeout');
  });

  test('Content-Length together with Transfer-Encoding gets 400 (request smuggling)', async () => {
    const before = stub.received.length;
    const res = await rawRequest(gw.port, [
      'POST /api/pool HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /api/user HTTP/1.1\r\nHost: x\r\n\r\n',
    ]);
    assert.equal(res.status, 400);
    assert.equal(JSON.parse(res.body).code, 'conflicting_length');
    assert.equal(stub.received.length, before);
  });

  test('two Content-Length headers are refused, and the answer says so (not "with Transfer-Encoding")', async () => {
    const before = stub.received.length;
    for (const lengths of [
      ['2', '2'],
      ['2', '3'],
    ]) {
      const res = await rawRequest(gw.port, [`POST /api/pool HTTP/1.1\r\nHost: x\r\nContent-Length: ${lengths[0]}\r\nContent-Length: ${lengths[1]}\r\n\r\n{}`]);
      assert.equal(res.status, 400);
      const body = JSON.parse(res.body);
      assert.equal(body.code, 'conflicting_length');
      assert.match(body.detail, /Content-Length given more than once/);
    }
    assert.equal(stub.received.length, before);
  });

  test('a repeated Content-Type is refused: the gateway would decide on one and Ceph read the other', async () => {
    const before = stub.received.length;
    const res = await rawRequest(gw.port, [
      'POST /api/pool HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\n{}',
    ]);
    assert.equal(res.status, 400);
    assert.equal(JSON.parse(res.body).code, 'invalid_request');
    assert.equal(stub.received.length, before);
  });

  test('pipelining: a valid request followed by malformed bytes gets its own answer first, then the 400', async () => {
    const before = stub.received.length;
    const res = await rawRequest(
      gw.port,
      ['POST /api/pool HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}GARBAGE\r\n\r\n'],
      5000,
    );
    assert.equal(stub.received.length, before + 1, 'the valid request was carried out');
    const answers = res.raw.split(/(?=HTTP\/1\.1 )/);
    assert.equal(answers.length, 2, res.raw);
    assert.match(answers[0] as string, /^HTTP\/1\.1 200 /);
    assert.match(answers[1] as string, /^HTTP\/1\.1 400 /);
  });

  test('oversize headers get 431', async () => {
    const res = await rawRequest(gw.port, [`GET /api/pool HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(8000)}\r\n\r\n`]);
    assert.equal(res.status, 431);
    assert.equal(JSON.parse(res.body).code, 'header_too_large');
  });

  test('a dot-segment path is refused before anything else, on the raw target', async () => {
    const before = stub.received.length;
    const res = await rawRequest(gw.port, ['GET /api/pool/../user HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n']);
    assert.equal(res.status, 400);
    assert.equal(JSON.parse(res.body).code, 'invalid_path');
    assert.equal(stub.received.length, before);
  });
});

describe('forwarding', () => {
  test('the same request id is returned and sent upstream', async () => {
    const res = await request(`${gw.url}/api/summary`);
    const id = res.headers['x-request-id'];
    await res.body.dump();
    assert.match(String(id), /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-/);
    assert.equal(stub.received.at(-1)?.headers['x-request-id'], id);
  });

  test('a W3C traceparent is propagated upstream and its trace id is in the access log', async () => {
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const res = await request(`${gw.url}/api/summary`, { headers: { traceparent } });
    const id = String(res.headers['x-request-id']);
    await res.body.dump();
    assert.equal(stub.received.at(-1)?.headers.traceparent, traceparent);
    await new Promise((r) => setTimeout(r, 20));
    const line = logs.lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.request_id === id);
    assert.equal(line?.trace_id, '4bf92f3577b34da6a3ce929d0e0e4736');
  });

  test('a client request id is ignored from an untrusted peer', async () => {
    const res = await request(`${gw.url}/api/summary`, { headers: { 'x-request-id': 'client-chosen-id-1234' } });
    await res.body.dump();
    assert.notEqual(res.headers['x-request-id'], 'client-chosen-id-1234');
  });

  test('hop-by-hop, identity and spoofed forwarding headers do not reach upstream', async () => {
    const res = await request(`${gw.url}/api/summary`, {
      headers: {
        connection: 'x-drop-me',
        'x-drop-me': '1',
        'x-forwarded-for': '10.6.6.6',
        'x-forwarded-host': 'evil',
        forwarded: 'for=10.6.6.6',
        cookie: 'token=stolen',
        'x-access-token': 'stolen',
        authorization: 'Bearer client-token',
        x_forwarded_for: '10.6.6.6',
        'x-original-url': '/api/user',
      },
    });
    await res.body.dump();
    const got = stub.received.at(-1)?.headers ?? {};
    for (const name of ['x-drop-me', 'cookie', 'x-access-token', 'x-original-url', 'x_forwarded_for']) assert.equal(got[name], undefined, name);
    assert.notEqual(got.authorization, 'Bearer client-token');
    assert.equal(got['x-forwarded-for'], '127.0.0.1');
    assert.notEqual(got['x-forwarded-host'], 'evil');
    assert.equal(got.forwarded, 'for=127.0.0.1;proto=http');
  });

  test('the body forwarded is byte for byte the body received', async () => {
    const payload = '{"pool":"team-a-x","pg_num":8}';
    const res = await request(`${gw.url}/api/pool`, { method: 'POST', body: payload, headers: { 'content-type': 'application/json' } });
    await res.body.dump();
    assert.equal(stub.received.at(-1)?.body.toString('utf8'), payload);
    assert.equal(stub.received.at(-1)?.headers['content-length'], String(payload.length));
  });

  test('a large response is streamed through intact', async () => {
    const res = await request(`${gw.url}/api/big`);
    assert.equal(res.statusCode, 200);
    let size = 0;
    let chunks = 0;
    for await (const c of res.body) {
      size += (c as Buffer).length;
      chunks++;
    }
    assert.equal(size, 128 * 65536);
    assert.ok(chunks > 1, 'arrived in more than one chunk');
  });

  test('a dead upstream gives 502 upstream_unreachable', async () => {
    const dead = createServer();
    await new Promise<void>((r) => dead.listen(0, '127.0.0.1', r));
    const port = (dead.address() as { port: number }).port;
    await new Promise<void>((r) => dead.close(() => r()));
    const g = await startGateway(testDeps({ upstream: staticUpstream(`http://127.0.0.1:${port}`) }));
    try {
      const res = await request(`${g.url}/api/summary`);
      assert.equal(res.statusCode, 502);
      assert.equal(((await res.body.json()) as { code: string }).code, 'upstream_unreachable');
    } finally {
      await g.close();
    }
  });

  test('a stalled upstream gives 504 upstream_timeout', async () => {
    const res = await request(`${gw.url}/api/stall`);
    assert.equal(res.statusCode, 504);
    const body = (await res.body.json()) as Record<string, string>;
    assert.equal(body.code, 'upstream_timeout');
    assert.equal(JSON.stringify(body).includes('UND_ERR'), false, 'no upstream internals in the error');
  });
});

describe('fail-closed audit order', () => {
  test('a mutation is audited before it is forwarded, with its outcome after', async () => {
    const res = await request(`${gw.url}/api/pool`, { method: 'POST', body: '{"pool":"p1"}', headers: { 'content-type': 'application/json' } });
    await res.body.dump();
    const intent = audit.intents.at(-1);
    assert.equal(intent?.method, 'POST');
    assert.deepEqual(intent?.body, { pool: 'p1' });
    assert.equal(audit.outcomes.get(intent?.id ?? '')?.upstreamStatus, 200);
  });

  test('when the audit store fails, a mutation gets 503 and nothing reaches upstream', async () => {
    audit.failing = true;
    const before = stub.received.length;
    try {
      const res = await request(`${gw.url}/api/pool`, { method: 'DELETE' });
      assert.equal(res.statusCode, 503);
      assert.equal(((await res.body.json()) as { code: string }).code, 'audit_unavailable');
      assert.equal(res.headers['retry-after'], '5');
      assert.equal(stub.received.length, before);
    } finally {
      audit.failing = false;
    }
  });

  test('reads are not written to the audit store by default', async () => {
    const n = audit.intents.length;
    const res = await request(`${gw.url}/api/summary`);
    await res.body.dump();
    assert.equal(audit.intents.length, n);
  });
});
