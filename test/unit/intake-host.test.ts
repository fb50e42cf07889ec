// The Host header check of intake (RFC 9112 §3.2): one header, a host and an optional port;
// paths, userinfo, several values or whitespace are refused, never interpreted.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GatewayError } from '../../src/core/errors.ts';
import { checkHeaders } from '../../src/intake/request-state.ts';

const headers = (...hosts: string[]) => new Map([['host', hosts]]);

test('well-formed Host values pass', () => {
  for (const h of ['cephgate.example.com', 'cephgate.example.com:8443', '127.0.0.1:8080', '[::1]:8080', 'localhost', 'a-b.c']) {
    assert.doesNotThrow(() => checkHeaders(headers(h)), h);
  }
  assert.doesNotThrow(() => checkHeaders(new Map()), 'absent (HTTP/1.0)');
});

test('malformed or repeated Host values are refused with 400 invalid_request', () => {
  for (const h of [['x/../y'], ['evil@host'], ['host:port'], ['a b'], [''], ['host:123456'], ['-bad.example'], ['a.example', 'b.example']]) {
    assert.throws(
      () => checkHeaders(headers(...h)),
      (e: unknown) => e instanceof GatewayError && e.status === 400 && e.code === 'invalid_request',
      h.join(','),
    );
  }
});
