// Property tests of the canonical request parser + route matcher through the real pipeline (recording
// policy double, recording upstream): (a) the decision is made on exactly the path and parameters that
// are forwarded, as Ceph will read them (it percent-decodes parameters twice), (b) no forwarded path
// decodes to another route or resource than the one decided, (c) every refusal is a JSON error with a
// code, never a 500. Seed: CEPHGATE_FC_SEED (fixed default in CI); fast-check prints it on failure.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { loadCatalogue } from '../../src/ceph/catalogue.ts';
import { SLASH_PARAMS } from '../../src/ceph/path-decode.ts';
import { createRouteMatcher } from '../../src/ceph/route-matcher.ts';
import type { PolicyInput } from '../../src/core/decision.ts';
import { MemoryAudit, staticUpstream, testDeps } from '../support/doubles.ts';
import { type RunningGateway, startGateway } from '../support/gateway.ts';
import { rawRequest } from '../support/raw-http.ts';
import { jsonAnswer, type StubUpstream, startStubUpstream } from '../support/stub-upstream.ts';
import { FC_SEED, fcParams } from './support.ts';

const catalogue = loadCatalogue('pacific');
const OPS = catalogue.operations.filter((o) => !o.unauthenticated);

/** Python's urllib.parse.unquote: %XX runs to bytes, UTF-8 with replacement; anything else unchanged. */
function pyUnquote(s: string): string {
  return s.replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) => Buffer.from(run.replaceAll('%', ''), 'hex').toString('utf8'));
}
/** What a Ceph handler receives for one raw path segment: decoded by the server, then unquoted again. */
const cephParam = (raw: string) => pyUnquote(pyUnquote(raw));

const ADVERSARIAL = [
  'rbd',
  'team-a-1',
  'rbd%2Fimg',
  'rbd%2Fns%2Fimg',
  'rbd%2fimg',
  '%2e%2e',
  '..',
  '.',
  '%2E',
  'a%252Fb',
  'a%2525',
  'a%25',
  'a%25zz',
  '%00',
  '%0d%0a',
  '%C0%AF',
  '%C3%A9',
  'p%C3%A9',
  '%2F',
  'a%2F..%2Fb',
  'a%2F%2Fb',
  'a%23b',
  'A%3Fb',
  '%252e%252e',
  'x%2561',
  '%u002e',
  'a;b',
  'a=b',
  '%7e',
  '~',
  '%ED%A0%80',
  '%F4%90%80%80',
  '%EF%BB%BF',
  '%E2%80%AE',
  'a+b',
  'a%2Bb',
  '%20',
  'a@b',
  'a:b',
];
const segArb = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...ADVERSARIAL) },
  { weight: 2, arbitrary: fc.array(fc.constantFrom(..."abz09-._~%2F5e0AdcC:@!$&'()*+,;=".split('')), { minLength: 0, maxLength: 10 }).map((a) => a.join('')) },
  { weight: 1, arbitrary: fc.array(fc.constantFrom(...ADVERSARIAL), { minLength: 2, maxLength: 3 }).map((a) => a.join('')) },
);
const queryArb = fc.array(fc.tuple(fc.constantFrom('pool_name', 'pool', 'data_pool', 'image_spec', 'x', 'svc_id', 'pool%5Fname', 'po%2Bol'), segArb), {
  maxLength: 3,
});

const targetArb = fc.record({
  op: fc.constantFrom(...OPS),
  params: fc.array(segArb, { minLength: 6, maxLength: 6 }),
  query: queryArb,
  extra: fc.constantFrom('', '', '', '/', '/..', '/x', '//', '?', '#f', '%2F', '/%2e%2e'),
  prefix: fc.constantFrom('', '', '', '/clusters/default', '/clusters/Default', '/clusters/..', '/'),
});

let stub: StubUpstream;
let gw: RunningGateway;
const seen: PolicyInput[] = [];

before(async () => {
  stub = await startStubUpstream(jsonAnswer(200, { ok: true }));
  const deps = testDeps({
    upstream: staticUpstream(stub.url),
    audit: new MemoryAudit(),
    matchRoute: createRouteMatcher({ catalogues: new Map([['default', catalogue]]), defaultCluster: 'default', allowUnknown: new Map([['default', false]]) }),
    policy: () => ({
      version: 'recording',
      decide: (input) => {
        seen.push(input);
        return { effect: 'allow', ruleId: 'rec', reason: 'recorded', cephAccount: null, policyVersion: 'recording' };
      },
    }),
  });
  gw = await startGateway(deps);
});
after(async () => {
  await gw.close();
  await stub.close();
});

describe('request parser and route matcher (property)', () => {
  test('decides on exactly what is forwarded, never on another route, never a 500', async () => {
    await fc
      .assert(
        fc.asyncProperty(targetArb, async ({ op, params, query, extra, prefix }) => {
          let i = 0;
          const path = op.segments.map((s) => ('literal' in s ? s.literal : (params[i++] as string))).join('/');
          const q = query.map(([k, v]) => `${k}=${v}`).join('&');
          const target = `${prefix}/${path}${extra}${q ? `${extra.includes('?') ? '&' : '?'}${q}` : ''}`;
          const beforeSeen = seen.length;
          const beforeRecv = stub.received.length;
          const body = op.method === 'GET' || op.method === 'DELETE' ? '' : '{}';
          const res = await rawRequest(gw.port, [
            `${op.method} ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n${body ? `Content-Type: application/json\r\nContent-Length: ${body.length}\r\n` : ''}\r\n${body}`,
          ]);
          const forwarded = stub.received.length > beforeRecv;
          // (c) never a 500, and every refusal is a JSON error with a code.
          assert.ok(res.status > 0 && res.status !== 500, `status ${res.status} for ${target}`);
          if (!forwarded) {
            assert.ok(res.status >= 400, `${res.status} without forwarding for ${target}`);
            assert.equal(typeof JSON.parse(res.body).code, 'string', `no code for ${target}: ${res.body.slice(0, 100)}`);
            return;
          }
          assert.equal(seen.length, beforeSeen + 1, 'forwarded only after exactly one decision');
          const decided = seen.at(-1) as PolicyInput;
          const got = stub.received.at(-1);
          assert.ok(got);
          // (a) the bytes forwarded are the bytes received (cluster prefix removed), nothing re-encoded.
          const stripped = prefix.startsWith('/clusters/') ? target.slice(prefix.length) : target;
          assert.equal(got.url, stripped);
          // (a) each parameter decided on is what Ceph's handler will receive (two decodes).
          const rawSegs = (got.url.split('?')[0] as string).split('/').slice(1);
          const decidedOp = decided.route.operation;
          assert.ok(decidedOp);
          for (const [k, seg] of decidedOp.segments.entries()) {
            if (!('param' in seg)) continue;
            const value = decided.route.params[seg.param] as string;
            assert.equal(cephParam(rawSegs[k] as string), value, `${seg.param}: decided ${value}, Ceph reads ${cephParam(rawSegs[k] as string)}`);
            // (b) the value Ceph reads names one resource: no separator outside image specs, no dot segments.
            if (!SLASH_PARAMS.has(seg.param)) assert.equal(value.includes('/'), false);
            assert.ok(value.split('/').every((p) => p !== '' && p !== '.' && p !== '..'));
          }
          // (b) the forwarded path routes to the decided operation, and no query parameter overrides a path one.
          assert.equal(catalogue.match(decided.method, rawSegs)?.operation.template, decided.route.template);
          for (const name of decidedOp.pathParams) assert.equal(decided.query[name], undefined);
          // (a) for the query, CherryPy's own parser is the reference: test/security/cherrypy-differential.test.ts.
        }),
        { ...fcParams(Number(process.env.CEPHGATE_FC_RUNS ?? 400)), examples: [] },
      )
      .catch((err: Error) => {
        throw new Error(`property failed with CEPHGATE_FC_SEED=${FC_SEED}: ${err.message}`, { cause: err });
      });
  });
});

describe('decoding regressions found by the property', () => {
  test('a leading byte-order mark is kept, so the pool decided on is the pool Ceph reads', () => {
    const m = catalogue.match('GET', ['api', 'pool', '%EF%BB%BFteam-a-1']);
    assert.equal(m?.params.pool_name, '\ufeffteam-a-1');
    assert.equal(cephParam('%EF%BB%BFteam-a-1'), '\ufeffteam-a-1');
  });
});
