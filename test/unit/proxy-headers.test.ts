// Header rewrites: identity material and forwarding headers from clients never reach Ceph
// (docs/security.md class 2); hop-by-hop headers are removed both ways (RFC 9110 §7.6.1).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { clientResponseHeaders, upstreamRequestHeaders } from '../../src/proxy/headers.ts';

const ctx = { requestId: 'rid-1', clientIp: '192.0.2.7', fromTrustedProxy: false, proto: 'https' as const, host: 'gw.example:443' };
const h = (entries: [string, string][]) => {
  const m = new Map<string, string[]>();
  for (const [k, v] of entries) m.set(k, [...(m.get(k) ?? []), v]);
  return m;
};

test('client identity material never reaches upstream', () => {
  const out = upstreamRequestHeaders(
    h([
      ['authorization', 'Bearer client'],
      ['cookie', 'token=abc'],
      ['x-access-token', 'abc'],
      ['content-type', 'application/json'],
      ['x_access_token', 'abc'],
      ['proxy-authorization', 'Basic x'],
    ]),
    ctx,
  );
  assert.equal(out.authorization, undefined);
  assert.equal(out.cookie, undefined);
  assert.equal(out['x-access-token'], undefined);
  assert.equal(out['x_access_token'], undefined);
  assert.equal(out['proxy-authorization'], undefined);
  assert.equal(out['content-type'], 'application/json');
});

test('spoofed forwarding headers from an untrusted peer are replaced, not extended', () => {
  const out = upstreamRequestHeaders(
    h([
      ['x-forwarded-for', '10.0.0.1'],
      ['x-forwarded-host', 'evil'],
      ['x-forwarded-proto', 'http'],
      ['forwarded', 'for=10.0.0.1'],
      ['x-original-url', '/api/user'],
      ['x-real-ip', '1.1.1.1'],
    ]),
    ctx,
  );
  assert.equal(out['x-forwarded-for'], '192.0.2.7');
  assert.equal(out['x-forwarded-host'], 'gw.example:443');
  assert.equal(out['x-forwarded-proto'], 'https');
  assert.equal(out.forwarded, 'for=192.0.2.7;proto=https');
  assert.equal(out['x-original-url'], undefined);
  assert.equal(out['x-real-ip'], undefined);
  assert.equal(out['x-request-id'], 'rid-1');
});

test('a trusted proxy extends the X-Forwarded-For chain', () => {
  const out = upstreamRequestHeaders(h([['x-forwarded-for', '198.51.100.1']]), { ...ctx, fromTrustedProxy: true });
  assert.equal(out['x-forwarded-for'], '198.51.100.1, 192.0.2.7');
});

test('hop-by-hop and Connection-listed headers are removed', () => {
  const out = upstreamRequestHeaders(
    h([
      ['connection', 'keep-alive, user-agent'],
      ['user-agent', 'curl'],
      ['te', 'trailers'],
      ['upgrade', 'h2c'],
      ['keep-alive', '5'],
    ]),
    ctx,
  );
  assert.deepEqual(Object.keys(out).sort(), ['forwarded', 'x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto', 'x-request-id']);
});

test('CR/LF in a header value never reaches upstream', () => {
  const out = upstreamRequestHeaders(h([['user-agent', 'x\r\nX-Injected: 1']]), ctx);
  assert.equal(out['user-agent'], undefined);
});

test('response: Set-Cookie (Ceph token), hop-by-hop, listed and fingerprint headers are dropped', () => {
  const out = clientResponseHeaders({
    'set-cookie': ['token=jwt; HttpOnly'],
    connection: 'close, x-secret',
    'x-secret': '1',
    server: 'CherryPy/18.6.1',
    'transfer-encoding': 'chunked',
    'content-type': 'application/json',
    'content-length': '2',
  });
  assert.deepEqual(out, { 'content-type': 'application/json' });
});
