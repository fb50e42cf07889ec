// Request ids (intake/request-id.ts): a well-formed UUIDv7 with the current time in its first 48 bits,
// random elsewhere; a caller's id is kept only from a trusted proxy and only when it is a safe token.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chooseRequestId, newRequestId } from '../../src/intake/request-id.ts';

const V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

test('a new request id is a UUIDv7 carrying the time it was made', () => {
  const before = Date.now();
  const ids = Array.from({ length: 1000 }, () => newRequestId());
  const after = Date.now();
  for (const id of ids) {
    assert.match(id, V7);
    const ms = Number.parseInt(id.replace('-', '').slice(0, 12), 16);
    assert.ok(ms >= before && ms <= after, `${id}: ${ms} within [${before}, ${after}]`);
  }
  assert.equal(new Set(ids).size, ids.length, 'no two alike');
});

test("a caller's X-Request-Id is kept from a trusted proxy only, and only when safe", () => {
  assert.equal(chooseRequestId(['lb-1234abcd'], true), 'lb-1234abcd');
  assert.match(chooseRequestId(['lb-1234abcd'], false), V7);
  assert.match(chooseRequestId(['bad id with spaces'], true), V7);
  assert.match(chooseRequestId(['a', 'b'], true), V7);
});
