// docs/security.md class 1 (path differentials), through the whole gateway in front of the real Ceph:
// paths two parsers could read differently are refused before any decision, and Ceph's own second
// percent-decoding of parameters (dashboard `_base_controller.py`) can never reach another resource.

import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { cephCli } from '../support/ceph-cli.ts';
import { type FullGateway, startFullGateway } from '../support/full-gateway.ts';
import { rawRequest } from '../support/raw-http.ts';
import { need, releaseSuite, testEnv } from '../support/requirements.ts';
import { auditRowsOf, call, cephPools, requestIdOf, unique } from './support.ts';

// A release suite: test/run.ts runs this file against Pacific and against Reef.
releaseSuite();

let gw: FullGateway | null = null;
let policyDir = '';
const s = unique();
const protectedPool = `cg-protected-${s}`;
const g = () => gw as FullGateway;

/** Raw request-targets fetch would normalise away, each with the status and code it must get. */
const RAW_CASES: [name: string, target: string, status: number, code: string][] = [
  ['dot-dot segment', '/api/pool/../user', 400, 'invalid_path'],
  ['encoded dot-dot', '/api/pool/%2e%2e/user', 400, 'invalid_path'],
  ['encoded dot-dot, mixed case', '/api/pool/%2E%2e/user', 400, 'invalid_path'],
  ['single dot segment', '/api/./pool', 400, 'invalid_path'],
  ['doubled leading slash', '//api/pool', 400, 'invalid_path'],
  ['merged slashes inside', '/api//pool', 400, 'invalid_path'],
  ['trailing slash (empty segment)', '/api/pool/', 400, 'invalid_path'],
  ['encoded separator then dots', '/api/pool%2F..%2Fuser', 400, 'invalid_path'],
  ['encoded separator in a parameter that carries none', '/api/pool/a%2Fb', 404, 'unknown_route'],
  ['encoded backslash', '/api/pool/a%5C..%5Cuser', 400, 'invalid_path'],
  ['raw fragment', '/api/pool#frag', 400, 'invalid_path'],
  ['NUL byte', '/api/pool/a%00b', 400, 'invalid_path'],
  ['CR LF', '/api/pool/a%0d%0aX-Injected:%201', 400, 'invalid_path'],
  ['DEL', '/api/pool/a%7f', 400, 'invalid_path'],
  ['C1 control', '/api/pool/a%C2%85', 400, 'invalid_path'],
  ['overlong UTF-8 slash', '/api/pool/%C0%AF', 400, 'invalid_path'],
  ['invalid UTF-8', '/api/pool/%C3%28', 400, 'invalid_path'],
  ['UTF-16 surrogate encoded as UTF-8', '/api/pool/%ED%A0%80', 400, 'invalid_path'],
  ['truncated escape', '/api/pool/a%2', 400, 'invalid_path'],
  ['non-hex escape', '/api/pool/a%zz', 400, 'invalid_path'],
  ['double-encoded dot-dot (Ceph decodes twice)', '/api/pool/%252e%252e', 400, 'invalid_path'],
  ['double-encoded slash in image spec (Ceph decodes twice)', '/api/block/image/rbd%252F..%252Fimg', 400, 'invalid_path'],
  ['double-encoded query value (Ceph decodes twice)', '/api/block/image?pool_name=team-b%252Dx', 400, 'invalid_path'],
  ['case-folded literal', '/API/pool', 404, 'not_found'],
  ['case-folded literal 2', '/api/POOL', 404, 'unknown_route'],
  ['percent-encoded literal', '/api/p%6Fol', 404, 'unknown_route'],
  ['absolute-form target', 'http://evil.example/api/pool', 400, 'invalid_path'],
  ['raw space smuggled in target', '/api/pool%20HTTP/1.1', 404, 'unknown_route'],
  ['cluster prefix with dot-dot', '/clusters/../api/pool', 400, 'invalid_path'],
  ['cluster prefix with upper case', '/clusters/MAIN/api/pool', 400, 'invalid_path'],
  ['unknown cluster', '/clusters/other/api/pool', 404, 'not_found'],
  ['semicolon path parameter (Tomcat/Jetty style)', '/api/pool;x=1/../user', 400, 'invalid_path'],
];

describe('path differentials', () => {
  before(async () => {
    if (!testEnv.cephUrl) return;
    // The example policies plus a deny on one named pool: breakglass (erin) may do anything else.
    policyDir = mkdtempSync(join(tmpdir(), 'cephgate-sec-policies-'));
    cpSync('policies', policyDir, { recursive: true, filter: (src) => !src.includes('/tests') });
    writeFileSync(
      join(policyDir, 'protect.yaml'),
      `rules:\n  - id: protect-${s}\n    effect: deny\n    subjects: '*'\n    routes: [Pool.delete, Pool.set]\n    when:\n      pools: { one_of: [${protectedPool}] }\n`,
    );
    gw = await startFullGateway({ policiesDir: policyDir });
    await cephCli(testEnv.cephConf as string, ['osd', 'pool', 'create', protectedPool, '8']);
  });
  after(async () => {
    await gw?.close();
    if (policyDir) rmSync(policyDir, { recursive: true, force: true });
  });

  for (const [name, target, status, code] of RAW_CASES) {
    test(`refuses ${name}: ${target}`, async (t) => {
      if (!need(t, 'ceph')) return;
      const token = await g().token('erin');
      const res = await rawRequest(g().port, [`GET ${target} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nConnection: close\r\n\r\n`]);
      assert.equal(res.status, status, res.body);
      assert.equal(JSON.parse(res.body).code, code);
    });
  }

  // @hono/node-server refuses these itself, before the app: 400 with an empty body (no JSON, no request id).
  const BEFORE_APP: [string, string, string][] = [
    ['backslash', '/api/pool\\..\\user', 'x'],
    ['asterisk-form target', '*', 'x'],
    ['Host header with a path', '/api/pool', 'x/../y'],
  ];
  for (const [name, target, host] of BEFORE_APP) {
    test(`refuses ${name} before any decision (nothing forwarded)`, async (t) => {
      if (!need(t, 'ceph')) return;
      const res = await rawRequest(g().port, [
        `GET ${target} HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Bearer ${await g().token('erin')}\r\nConnection: close\r\n\r\n`,
      ]);
      assert.equal(res.status, 400);
    });
    test(`answers ${name} with a JSON error and a code`, async (t) => {
      if (!need(t, 'ceph')) return;
      const res = await rawRequest(g().port, [`GET ${target} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`]);
      assert.equal(res.status, 400);
      assert.equal(JSON.parse(res.body).code, name.startsWith('Host') ? 'invalid_request' : 'invalid_path');
    });
  }

  test('an encoded fragment character names a resource, decided and served the same (not a differential)', async (t) => {
    if (!need(t, 'ceph')) return;
    const res = await call(g().url, 'GET', `/api/pool/a%23b${s}`, { token: await g().token('erin') });
    // Ceph answers for pool `a#b...` (which does not exist); the gateway decided on that same name.
    assert.notEqual(res.status, 200);
    const rows = await auditRowsOf(g(), requestIdOf(res));
    assert.ok(rows.length <= 1);
  });

  test('a double-encoded pool name is never decided as one pool and served as another', async (t) => {
    if (!need(t, 'ceph')) return;
    // `%2574` is decided as `%74` by one decode and served as `t` by Ceph's second: the deny would be skipped.
    const sneaky = protectedPool.replace('protected', 'pro%2574ected');
    const res = await call(g().url, 'DELETE', `/api/pool/${sneaky}`, { token: await g().token('erin') });
    assert.equal(res.status, 400, res.text);
    assert.equal(res.json?.code, 'invalid_path');
    assert.ok((await cephPools()).includes(protectedPool), 'the protected pool still exists');
  });

  test('a query parameter cannot replace the path parameter decided on', async (t) => {
    if (!need(t, 'ceph')) return;
    // Verified on 16.2.15: `?pool_name=` overrides the path's {pool_name}.
    const res = await call(g().url, 'DELETE', `/api/pool/team-x-${s}?pool_name=${protectedPool}`, { token: await g().token('erin') });
    assert.equal(res.status, 400, res.text);
    assert.equal(res.json?.code, 'ambiguous_request');
    const rows = await auditRowsOf(g(), requestIdOf(res));
    assert.equal(rows[0]?.upstream_status ?? null, null);
    assert.ok((await cephPools()).includes(protectedPool));
  });

  test('the protected pool is still protected when named plainly (the deny works)', async (t) => {
    if (!need(t, 'ceph')) return;
    const res = await call(g().url, 'DELETE', `/api/pool/${protectedPool}`, { token: await g().token('erin') });
    assert.equal(res.status, 403);
    assert.equal(res.json?.code, 'policy_denied');
    assert.ok((await cephPools()).includes(protectedPool));
  });

  test('an encoded slash is kept for image specs and decided on decoded (team B cannot reach team A)', async (t) => {
    if (!need(t, 'ceph')) return;
    const bob = await g().token('bob');
    const res = await call(g().url, 'DELETE', `/api/block/image/team-a-${s}%2Fimg`, { token: bob });
    assert.equal(res.status, 403);
    assert.equal(res.json?.code, 'policy_denied');
    const ns = await call(g().url, 'DELETE', `/api/block/image/team-b-${s}%2F..%2Fteam-a-${s}%2Fimg`, { token: bob });
    assert.equal(ns.status, 400);
    assert.equal(ns.json?.code, 'invalid_path');
  });
});
