// The canonical request-target parser: what it accepts, what it refuses (path differentials,
// docs/security.md class 1), and that parameters keep their raw form for forwarding.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { GatewayError } from '../../src/core/errors.ts';
import { parseRequestTarget, upstreamPathAndQuery } from '../../src/intake/request-target.ts';

describe('parseRequestTarget accepts canonical targets', () => {
  test('plain path and query', () => {
    const t = parseRequestTarget('/api/pool?stats=true&attrs=a%2Cb');
    assert.deepEqual(t.segments, ['api', 'pool']);
    assert.equal(t.rawQuery, 'stats=true&attrs=a%2Cb');
    assert.deepEqual(t.query.stats, ['true']);
    assert.deepEqual(t.query.attrs, ['a,b']);
    assert.equal(t.cluster, null);
    assert.equal(upstreamPathAndQuery(t), '/api/pool?stats=true&attrs=a%2Cb');
  });
  test('an encoded slash stays one raw segment (RBD image_spec)', () => {
    const t = parseRequestTarget('/api/block/image/rbd%2Fimg1');
    assert.deepEqual(t.segments, ['api', 'block', 'image', 'rbd%2Fimg1']);
    assert.equal(upstreamPathAndQuery(t), '/api/block/image/rbd%2Fimg1');
  });
  test('cluster prefix is split off and not forwarded', () => {
    const t = parseRequestTarget('/clusters/east-1/api/health/minimal');
    assert.equal(t.cluster, 'east-1');
    assert.equal(t.rawPath, '/api/health/minimal');
    assert.equal(upstreamPathAndQuery(t), '/api/health/minimal');
  });
  test('repeated query parameters keep every value', () => {
    assert.deepEqual({ ...parseRequestTarget('/api/x?a=1&a=2&b').query }, { a: ['1', '2'], b: [''] });
  });
  test('an empty query is forwarded as received', () => {
    assert.equal(upstreamPathAndQuery(parseRequestTarget('/api/pool?')), '/api/pool?');
  });
});

describe('parseRequestTarget refuses what two parsers could read differently', () => {
  const refused: [string, string][] = [
    ['dot-dot segment', '/api/pool/../user'],
    ['dot segment', '/api/./pool'],
    ['encoded dot-dot', '/api/pool/%2e%2e/user'],
    ['mixed-case encoded dot-dot', '/api/pool/%2E./user'],
    ['encoded slash then dot-dot', '/api/pool%2F..%2Fuser'],
    ['double slash', '//api/pool'],
    ['empty middle segment', '/api//pool'],
    ['trailing slash', '/api/pool/'],
    ['raw backslash', '/api\\pool'],
    ['encoded backslash', '/api/pool%5C..%5Cuser'],
    ['fragment', '/api/pool#x'],
    ['encoded NUL', '/api/pool%00'],
    ['encoded newline', '/api/pool%0d%0aX-Injected:1'],
    ['invalid UTF-8', '/api/pool/%c0%ae%c0%ae'],
    ['overlong UTF-8 slash', '/api/pool%c0%af'],
    ['bad percent', '/api/pool%2'],
    ['bad percent hex', '/api/pool%zz'],
    ['absolute-form', 'http://evil/api/pool'],
    ['asterisk-form', '*'],
    ['non-ASCII byte', '/api/pööl'],
    ['space', '/api/pool name'],
    ['bad cluster name', '/clusters/UPPER/api/pool'],
    ['cluster without path', '/clusters/east'],
    ['trailing slash under the gateway', '/gateway/audit/'],
    ['two trailing slashes at the gateway root', '/gateway//'],
    ['control char in query', '/api/pool?x=%00'],
    ['raw space in query', '/api/pool?x=a b'],
  ];
  for (const [name, raw] of refused) {
    test(`refuses ${name}: ${JSON.stringify(raw)}`, () => {
      assert.throws(
        () => parseRequestTarget(raw),
        (e: unknown) => e instanceof GatewayError && e.status === 400 && e.code === 'invalid_path',
      );
    });
  }
});

describe('the two roots that end in a slash', () => {
  test("a cluster's dashboard root and the gateway's start page", () => {
    assert.deepEqual(parseRequestTarget('/clusters/east/').segments, []);
    assert.equal(parseRequestTarget('/clusters/east/').cluster, 'east');
    assert.deepEqual(parseRequestTarget('/gateway/').segments, ['gateway']);
    assert.equal(parseRequestTarget('/gateway/').cluster, null);
  });
});
