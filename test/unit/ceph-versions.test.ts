// Version negotiation: which Accept goes to Ceph, when the client gets plain JSON back, 415 learning.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { loadCatalogue } from '../../src/ceph/catalogue.ts';
import { cephAnswerHeaders } from '../../src/ceph/request-prep.ts';
import { clientVersion, negotiate, VersionMemory, versionFrom415 } from '../../src/ceph/versions.ts';
import { GatewayError } from '../../src/core/errors.ts';

const reef = loadCatalogue('reef');
const images = reef.byTemplate('/api/block/image').find((o) => o.method === 'GET') ?? null;
const host = reef.byTemplate('/api/host').find((o) => o.method === 'GET') ?? null;

describe('negotiate', () => {
  const cases: [string, string | null, string, boolean][] = [
    ['application/json', 'application/json', 'application/vnd.ceph.api.v2.0+json', true],
    ['*/*', '*/*', 'application/vnd.ceph.api.v2.0+json', true],
    ['missing', null, 'application/vnd.ceph.api.v2.0+json', true],
    ['list without Ceph type', 'text/html, application/json;q=0.9', 'application/vnd.ceph.api.v2.0+json', true],
    ['Ceph type passes through', 'application/vnd.ceph.api.v1.0+json', 'application/vnd.ceph.api.v1.0+json', false],
    ['Ceph type with q and in a list', 'application/json, application/vnd.ceph.api.v2.0+json;q=0.5', 'application/vnd.ceph.api.v2.0+json', false],
    ['Ceph type, upper case, leading zeros normalised', 'Application/VND.Ceph.API.v02.0+JSON', 'application/vnd.ceph.api.v2.0+json', false],
  ];
  for (const [name, accept, upstream, plain] of cases) {
    test(name, () => {
      const n = negotiate({ clientAccept: accept, method: 'GET', operation: images, template: '/api/block/image', pins: {}, learned: null });
      assert.equal(n.accept, upstream);
      assert.equal(n.plainJson, plain);
    });
  }

  test('malformed Ceph media type is 415 unsupported_media_type', () => {
    for (const bad of ['application/vnd.ceph.api.v1+json', 'application/vnd.ceph.api.vx.y+json', 'application/vnd.ceph.api.v1.0']) {
      assert.throws(
        () => clientVersion(bad),
        (e) => e instanceof GatewayError && e.status === 415 && e.code === 'unsupported_media_type',
      );
    }
  });

  test('precedence: client > pin > learned > catalogue > 1.0', () => {
    const learned = new VersionMemory();
    learned.learn('GET /api/host', '1.2');
    const base = { method: 'GET' as const, operation: host, template: '/api/host' };
    assert.equal(negotiate({ ...base, clientAccept: null, pins: {}, learned: null }).version, '1.3');
    assert.equal(negotiate({ ...base, clientAccept: null, pins: {}, learned }).source, 'learned');
    assert.equal(negotiate({ ...base, clientAccept: null, pins: { 'GET /api/host': '1.1' }, learned }).version, '1.1');
    assert.equal(negotiate({ ...base, clientAccept: 'application/vnd.ceph.api.v1.0+json', pins: { 'GET /api/host': '1.1' }, learned }).version, '1.0');
    assert.deepEqual(negotiate({ ...base, operation: null, template: '/api/unknown', clientAccept: null, pins: {}, learned: null }), {
      accept: 'application/vnd.ceph.api.v1.0+json',
      version: '1.0',
      source: 'default',
      plainJson: true,
    });
  });
});

describe('415 learning', () => {
  const bodies: [unknown, string | null][] = [
    [JSON.stringify({ status: '415 Unsupported Media Type', detail: "Incorrect version: endpoint is '1.1', client requested '1.2'" }), '1.1'],
    [{ detail: "Incorrect version: endpoint is '2.0', client requested '1.0'" }, '2.0'],
    ["Incorrect version: endpoint is '0.1', client requested '1.0'", '0.1'],
    [JSON.stringify({ detail: 'Unable to find version in request header' }), null],
    ['not json', null],
    [null, null],
  ];
  for (const [body, v] of bodies) test(`versionFrom415 ${JSON.stringify(body)?.slice(0, 40)}`, () => assert.equal(versionFrom415(body), v));

  test('memory says once that a fact is new', () => {
    const m = new VersionMemory();
    assert.equal(m.learn('GET /x', '1.1'), true);
    assert.equal(m.learn('GET /x', '1.1'), false);
    assert.equal(m.learn('GET /x', '1.2'), true);
    assert.equal(m.get('GET /x'), '1.2');
  });
});

describe('cephAnswerHeaders', () => {
  test('Ceph media type becomes application/json for plain-JSON clients only', () => {
    const h = { 'content-type': 'application/vnd.ceph.api.v1.3+json', 'x-a': 'b' };
    assert.deepEqual(cephAnswerHeaders(h, true), { 'content-type': 'application/json', 'x-a': 'b' });
    assert.deepEqual(cephAnswerHeaders(h, false), h);
    assert.deepEqual(cephAnswerHeaders({ 'Content-Type': 'text/plain' }, true), { 'Content-Type': 'text/plain' });
  });
  test("Ceph's Set-Cookie (its token cookie) never reaches the client, in any case of the name", () => {
    assert.deepEqual(cephAnswerHeaders({ 'set-cookie': ['token=abc'], 'x-a': 'b' }, false), { 'x-a': 'b' });
    assert.deepEqual(cephAnswerHeaders({ 'Set-Cookie': 'token=abc', 'content-type': 'application/vnd.ceph.api.v1.0+json' }, true), {
      'content-type': 'application/json',
    });
  });
});
