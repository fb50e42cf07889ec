// Request coalescing: concurrent identical reads share one upstream call, never across Ceph
// accounts or versions; the micro-cache serves repeats; unlisted routes are never shared.

import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { createCoalescingUpstream } from '../../src/ceph/coalesce.ts';
import { clusterSchema } from '../../src/config/ceph.ts';
import type { CatalogueOperation } from '../../src/core/catalogue.ts';
import type { Upstream, UpstreamRequest } from '../../src/core/upstream.ts';

const op = (template: string) => ({ template }) as CatalogueOperation;
const cluster = (coalesce: Record<string, unknown>) => clusterSchema.parse({ name: 'main', dashboards: ['http://127.0.0.1:1'], coalesce });

function countingUpstream(delayMs = 20) {
  const calls: UpstreamRequest[] = [];
  const inner: Upstream = {
    async send(req) {
      calls.push(req);
      await new Promise((r) => setTimeout(r, delayMs));
      return { status: 200, headers: { 'content-type': 'application/json' }, body: Readable.from([Buffer.from(`{"n":${calls.length}}`)]) };
    },
    ping: async () => true,
    close: async () => {},
  };
  return { inner, calls };
}

const req = (over: Partial<UpstreamRequest> = {}): UpstreamRequest => ({
  requestId: 'r',
  cluster: 'main',
  cephAccount: 'reader',
  method: 'GET',
  pathAndQuery: '/api/health/full',
  headers: {},
  body: null,
  operation: op('/api/health/full'),
  clientAccept: null,
  ...over,
});

const text = async (r: { body: Readable }) => {
  let s = '';
  for await (const c of r.body) s += c.toString();
  return s;
};

test('50 concurrent identical reads make one upstream call and all get the same answer', async () => {
  const { inner, calls } = countingUpstream();
  const up = createCoalescingUpstream(inner, [cluster({ routes: ['GET /api/health/full'] })]);
  const answers = await Promise.all(Array.from({ length: 50 }, () => up.send(req())));
  assert.equal(calls.length, 1);
  assert.deepEqual(new Set(await Promise.all(answers.map(text))), new Set(['{"n":1}']));
  assert.equal(answers.filter((a) => a.shared === 'coalesced').length, 49);
});

test('answers are never shared across Ceph accounts, queries or versions', async () => {
  const { inner, calls } = countingUpstream();
  const up = createCoalescingUpstream(inner, [cluster({ routes: ['GET /api/health/full'] })]);
  await Promise.all([
    up.send(req()),
    up.send(req({ cephAccount: 'admin' })),
    up.send(req({ pathAndQuery: '/api/health/full?x=1' })),
    up.send(req({ clientAccept: 'application/vnd.ceph.api.v1.0+json' })),
  ]);
  assert.equal(calls.length, 4);
});

test('the micro-cache serves repeats within its window only', async () => {
  let t = 1000;
  const { inner, calls } = countingUpstream(1);
  const up = createCoalescingUpstream(inner, [cluster({ routes: ['GET /api/health/full'], micro_cache_ms: 1000 })], () => t);
  await text(await up.send(req()));
  const second = await up.send(req());
  assert.equal(second.shared, 'cached');
  assert.equal(calls.length, 1);
  t += 1500;
  await text(await up.send(req()));
  assert.equal(calls.length, 2);
});

test('routes that are not configured are never coalesced', async () => {
  const { inner, calls } = countingUpstream();
  const up = createCoalescingUpstream(inner, [cluster({ routes: ['GET /api/health/full'] })]);
  await Promise.all([
    up.send(req({ operation: op('/api/pool'), pathAndQuery: '/api/pool' })),
    up.send(req({ operation: op('/api/pool'), pathAndQuery: '/api/pool' })),
  ]);
  assert.equal(calls.length, 2);
  assert.equal(createCoalescingUpstream(inner, [cluster({})]), inner, 'no wrapper when nothing is configured');
});

test('an upstream failure reaches every waiter as the same error', async () => {
  const inner: Upstream = {
    send: async () => {
      await new Promise((r) => setTimeout(r, 10));
      throw new Error('boom');
    },
    ping: async () => true,
    close: async () => {},
  };
  const up = createCoalescingUpstream(inner, [cluster({ routes: ['GET /api/health/full'] })]);
  const results = await Promise.allSettled([up.send(req()), up.send(req())]);
  assert.deepEqual(
    results.map((r) => r.status),
    ['rejected', 'rejected'],
  );
});
