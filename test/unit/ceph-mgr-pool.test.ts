// Active-mgr discovery and fail-over with a scripted probe (no sockets).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createMgrPool, type ProbeResult } from '../../src/ceph/mgr-pool.ts';
import { GatewayError } from '../../src/core/errors.ts';

const silent = { debug() {}, info() {}, warn() {}, error() {} };
const A = 'http://127.0.0.1:1001';
const B = 'http://127.0.0.1:1002';

function pool(state: Record<string, ProbeResult | 'hang'>, failoverWaitMs = 600) {
  let probes = 0;
  const p = createMgrPool({
    cluster: 'c1',
    urls: [`${A}/`, B],
    log: silent,
    healthIntervalMs: 0,
    failoverWaitMs,
    probeTimeoutMs: 100,
    probe: (origin, signal) => {
      probes++;
      const s = state[origin];
      if (s === 'hang') return new Promise((_r, reject) => signal.addEventListener('abort', () => reject(new Error('aborted'))));
      return Promise.resolve(s ?? { error: new Error('ECONNREFUSED') });
    },
  });
  return { p, probes: () => probes };
}

describe('mgr pool', () => {
  test('finds the active mgr (401 to an anonymous probe) past a redirecting standby', async () => {
    const { p } = pool({ [A]: { status: 303, location: `${B}/` }, [B]: { status: 401, location: null } });
    assert.equal(await p.active(), B);
    assert.equal(p.current(), B);
  });

  test('standby in error mode (500) or with its "no active mgr" page (200) is not active', async () => {
    assert.equal(await pool({ [A]: { status: 500, location: null }, [B]: { status: 401, location: null } }).p.active(), B);
    assert.equal(await pool({ [A]: { status: 200, location: null }, [B]: { status: 401, location: null } }).p.active(), B);
  });

  test('redirect to an origin outside the configuration is not followed', async () => {
    const { p } = pool({ [A]: { status: 303, location: 'http://evil.example:8443/' }, [B]: { error: new Error('ECONNREFUSED') } }, 300);
    await assert.rejects(p.active(), (e) => e instanceof GatewayError && e.status === 503 && e.code === 'ceph_unavailable' && e.headers['Retry-After'] === '1');
  });

  test('fail-over: markDown finds the new active mgr', async () => {
    const state: Record<string, ProbeResult> = { [A]: { status: 401, location: null }, [B]: { status: 303, location: A } };
    const { p } = pool(state);
    assert.equal(await p.active(), A);
    state[A] = { error: new Error('ECONNREFUSED') };
    state[B] = { status: 401, location: null };
    p.markDown(A, 'ECONNREFUSED');
    assert.equal(await p.active(), B);
  });

  test('no active mgr: bounded wait then 503 with Retry-After, even when probes hang', async () => {
    const { p } = pool({ [A]: 'hang', [B]: 'hang' }, 500);
    const t0 = Date.now();
    await assert.rejects(p.active(), (e) => e instanceof GatewayError && e.code === 'ceph_unavailable' && Number(e.headers['Retry-After']) >= 1);
    assert.ok(Date.now() - t0 < 1500, `waited ${Date.now() - t0} ms`);
  });

  test('concurrent waiters share discovery', async () => {
    const { p, probes } = pool({ [A]: { status: 401, location: null }, [B]: { status: 303, location: A } });
    await Promise.all(Array.from({ length: 50 }, () => p.active()));
    assert.equal(probes(), 2);
  });
});
