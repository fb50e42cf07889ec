// Canonical JSON and the chain hash: key order and Date/number forms must not change a hash;
// any content change must. Also the CSV cell quoting and cursor decoding used by exports and the API.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { validate as isUuid, version as uuidVersion, v7 as uuidv7 } from 'uuid';
import { canonicalJson, chainHash, GENESIS_HASH } from '../../src/audit/chain.ts';
import { csvCell } from '../../src/audit/export.ts';
import { decodeCursor, encodeCursor } from '../../src/audit/query.ts';

describe('audit chain hashing', () => {
  it('canonical JSON sorts keys, drops undefined, writes Dates as ISO', () => {
    assert.equal(canonicalJson({ b: 1, a: [true, null, 'x'], c: undefined, d: new Date(0) }), '{"a":[true,null,"x"],"b":1,"d":"1970-01-01T00:00:00.000Z"}');
  });

  it('is independent of key order and equals JSON.parse(JSON.stringify) round trips (what jsonb gives back)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        const round = JSON.parse(JSON.stringify(v)) as unknown;
        assert.equal(canonicalJson(round), canonicalJson(JSON.parse(canonicalJson(v))));
      }),
    );
  });

  it('chains: the hash depends on the previous hash and on every field', () => {
    const e = { kind: 'intent', seq: 1, status: 201 };
    const h = chainHash(GENESIS_HASH, e);
    assert.match(h, /^[0-9a-f]{64}$/);
    assert.notEqual(chainHash(h, e), h);
    assert.notEqual(chainHash(GENESIS_HASH, { ...e, status: 200 }), h);
    assert.equal(chainHash(GENESIS_HASH, { status: 201, seq: 1, kind: 'intent' }), h);
  });

  it('record ids (uuid v7 of the uuid package) are valid, version 7 and strictly increasing: pages are ordered by them', () => {
    const ids = Array.from({ length: 10000 }, () => uuidv7());
    for (const id of ids) assert.ok(isUuid(id) && uuidVersion(id) === 7 && '89ab'.includes(id[19] ?? ''), id);
    assert.deepEqual([...ids].sort(), ids);
    assert.equal(new Set(ids).size, ids.length);
  });

  it('csv cells quote separators and defuse formulas', () => {
    assert.equal(csvCell('a,b'), '"a,b"');
    assert.equal(csvCell('say "hi"'), '"say ""hi"""');
    assert.equal(csvCell('=cmd()'), "'=cmd()");
    assert.equal(csvCell(null), '');
    assert.equal(csvCell(42), '42');
  });

  it('cursors round-trip and garbage is refused', () => {
    const id = uuidv7();
    assert.deepEqual(decodeCursor(encodeCursor(new Date(5), id)), { receivedAt: new Date(5).toISOString(), id });
    assert.deepEqual(decodeCursor(encodeCursor('2026-01-01T00:00:00.123456Z', id)).receivedAt, '2026-01-01T00:00:00.123456Z');
    assert.throws(() => decodeCursor('bm9wZQ'));
    assert.throws(() => decodeCursor(Buffer.from('["x","y"]').toString('base64url')));
  });
});
