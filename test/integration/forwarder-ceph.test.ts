// The forwarder in front of the real Ceph dashboard: an answer through the gateway is the
// dashboard's answer byte for byte (status, body, content type), streamed. The Ceph credential
// and version here come from a minimal test Upstream; the real Ceph adapter is tested in ceph-*.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { request } from 'undici';
import type { Upstream } from '../../src/core/upstream.ts';
import { createDispatcher, forward } from '../../src/proxy/forward.ts';
import { testDeps } from '../support/doubles.ts';
import { startGateway } from '../support/gateway.ts';
import { need, testEnv } from '../support/requirements.ts';

const V1 = 'application/vnd.ceph.api.v1.0+json';

async function cephToken(url: string): Promise<string> {
  const res = await request(`${url}/api/auth`, {
    method: 'POST',
    headers: { accept: V1, 'content-type': 'application/json' },
    body: JSON.stringify({ username: testEnv.cephAdminUser, password: testEnv.cephAdminPassword }),
  });
  assert.equal(res.statusCode, 201);
  return ((await res.body.json()) as { token: string }).token;
}

test('an answer of the real dashboard passes through byte for byte', async (t) => {
  if (!need(t, 'ceph')) return;
  const url = testEnv.cephUrl as string;
  const token = await cephToken(url);
  const dispatcher = createDispatcher({ connectTimeoutMs: 5000 });
  const upstream: Upstream = {
    send: (req) =>
      forward({
        dispatcher,
        origin: url,
        method: req.method,
        path: req.pathAndQuery,
        headers: { ...req.headers, authorization: `Bearer ${token}`, accept: V1 },
        body: req.body,
        headersTimeoutMs: 30000,
        bodyTimeoutMs: 30000,
      }),
    ping: async () => true,
    close: () => dispatcher.close(),
  };
  const gw = await startGateway(testDeps({ upstream }));
  try {
    const direct = await request(`${url}/api/role`, { headers: { accept: V1, authorization: `Bearer ${token}` } });
    const directBody = Buffer.from(await direct.body.arrayBuffer());
    const via = await request(`${gw.url}/api/role`);
    const viaBody = Buffer.from(await via.body.arrayBuffer());
    assert.equal(via.statusCode, direct.statusCode);
    assert.equal(via.statusCode, 200);
    assert.equal(via.headers['content-type'], direct.headers['content-type']);
    assert.ok(viaBody.length > 100);
    assert.ok(viaBody.equals(directBody), 'same bytes');
    assert.equal(via.headers['set-cookie'], undefined);
    assert.equal(via.headers.server, undefined, 'no upstream server fingerprint');

    // Ceph's own errors pass through unchanged too (here: no version -> its 415 is not ours).
    const directErr = await request(`${url}/api/role`, { headers: { authorization: `Bearer ${token}`, accept: 'application/vnd.ceph.api.v9.0+json' } });
    const directErrBody = await directErr.body.text();
    assert.equal(directErr.statusCode, 415);
    assert.match(directErrBody, /Incorrect version/);
  } finally {
    await gw.close();
    await upstream.close();
  }
});
