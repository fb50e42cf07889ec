// docs/security.md class 1 and 5 against Ceph's own code: the gateway must derive a request's arguments
// exactly as Ceph does, or refuse it. The upstream is test/support/cherrypy-oracle.py, a real CherryPy
// server configured as the dashboard configures it, whose handlers are wrapped by the installed
// dashboard's own `_request_wrapper` and answer with the arguments they received. Every request the
// gateway forwards is therefore read by the real parsers, and what they built is compared with what
// the gateway decided on (ceph/arguments.ts `handlerArguments`).
// A release suite: against Pacific's CherryPy and dashboard on this host, then against Reef's own
// (CherryPy 18.10, dashboard 18.2.7) in the Reef chroot, each with that release's route catalogue.
//
// Prevents: the `;` query bypass (`PUT /api/pool/team-a-p1?flags=;pool_name=team-b-victim` was decided
// on team-a-p1 and acted on team-b-victim), image-map queries, form-encoded bodies whose fields
// CherryPy merges into the arguments, and any other way the two parsers could disagree.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { type BodyArguments, cephReadsJsonBody, handlerArguments } from '../../src/ceph/arguments.ts';
import { loadCatalogue } from '../../src/ceph/catalogue.ts';
import { createRouteMatcher } from '../../src/ceph/route-matcher.ts';
import type { PolicyInput } from '../../src/core/decision.ts';
import { type Oracle, oracleMissing, routesOf, startOracle } from '../support/cherrypy-oracle.ts';
import { MemoryAudit, staticUpstream, testDeps } from '../support/doubles.ts';
import { type RunningGateway, startGateway } from '../support/gateway.ts';
import { type RawAnswer, rawRequest } from '../support/raw-http.ts';
import { need, releaseSuite } from '../support/requirements.ts';
import { FC_SEED, fcParams } from './support.ts';

const release = releaseSuite();
const catalogue = loadCatalogue(release);
const OPS = catalogue.operations.filter((o) => !o.unauthenticated);

let oracle: Oracle | null = null;
let gw: RunningGateway | null = null;
const seen: PolicyInput[] = [];
const audit = new MemoryAudit();

before(async () => {
  if (process.env.CI !== 'true' && oracleMissing(release) !== null) return;
  // Every POST/PUT as an `@allow_empty_body` handler: CherryPy's form processors stay on, the worst case.
  oracle = await startOracle(routesOf(OPS, true), release);
  const deps = testDeps({
    upstream: staticUpstream(oracle.url),
    audit,
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
  await gw?.close();
  await oracle?.close();
});

interface Sent {
  readonly method: string;
  readonly target: string;
  readonly contentType?: string;
  readonly body?: string;
}

function send(port: number, r: Sent): Promise<RawAnswer> {
  const body = r.body ?? '';
  const head = [`${r.method} ${r.target} HTTP/1.1`, 'Host: gw', 'Connection: close'];
  if (r.contentType !== undefined) head.push(`Content-Type: ${r.contentType}`);
  if (r.body !== undefined || r.method === 'POST' || r.method === 'PUT') head.push(`Content-Length: ${Buffer.byteLength(body)}`);
  return rawRequest(port, [`${head.join('\r\n')}\r\n\r\n${body}`]);
}

/** Sends the same bytes straight to the oracle (no gateway): what Ceph would build from them. */
async function direct(r: Sent): Promise<Record<string, unknown>> {
  const res = await send(Number(new URL((oracle as Oracle).url).port), r);
  assert.equal(res.status, 200, res.body);
  return (JSON.parse(res.body) as { args: Record<string, unknown> }).args;
}

/** The arguments the gateway decided on, as Ceph's handler would receive them. */
function decidedArguments(input: PolicyInput): Record<string, unknown> {
  const text = input.body?.toString('utf8') ?? '';
  const body: BodyArguments = cephReadsJsonBody(input.method, input.contentType) && text !== '' ? { kind: 'json', value: JSON.parse(text) } : { kind: 'none' };
  return Object.fromEntries([...handlerArguments(input.route, input.query, body)].map(([k, a]) => [k, a.value]));
}

/**
 * Sends `r` through the gateway. Either the gateway refused it (a JSON error with a code, nothing
 * forwarded), or CherryPy answered and built exactly the arguments the gateway decided on.
 */
async function agreeOrRefuse(r: Sent): Promise<'refused' | 'agreed' | 'ceph-refused'> {
  const g = gw as RunningGateway;
  const before = seen.length;
  const res = await send(g.port, r);
  assert.notEqual(res.status, 500, `500 for ${r.method} ${r.target}: ${res.body}`);
  const answer = JSON.parse(res.body) as Record<string, unknown>;
  if (seen.length === before) {
    assert.ok(res.status >= 400 && typeof answer.code === 'string', `not forwarded, yet ${res.status} ${res.body}`);
    return 'refused';
  }
  assert.equal(seen.length, before + 1, 'forwarded after exactly one decision');
  if (res.status !== 200 || !('args' in answer)) return 'ceph-refused'; // CherryPy refused it: no handler ran
  const decided = seen.at(-1) as PolicyInput;
  assert.equal(answer.route, decided.route.template, `CherryPy routed ${r.method} ${r.target} elsewhere`);
  assert.deepEqual(answer.args, decidedArguments(decided), `arguments differ for ${r.method} ${r.target} [${r.contentType ?? ''}] ${r.body ?? ''}`);
  return 'agreed';
}

const ready = (t: Parameters<typeof need>[0]) => need(t, 'cherrypy') && gw !== null;

describe('CherryPy differential: the known tricks', () => {
  test('a ; in the query cannot replace the pool the policy decided on (the team-b quota, rename and delete)', async (t) => {
    if (!ready(t)) return;
    const tricks: Sent[] = [
      { method: 'PUT', target: '/api/pool/team-a-p1?flags=;pool_name=team-b-victim', contentType: 'application/json', body: '{"quota_max_objects":2468}' },
      { method: 'PUT', target: '/api/pool/team-a-p1?flags=;pool_name=team-b-victim', contentType: 'application/json', body: '{"pool":"team-a-stolen"}' },
      { method: 'DELETE', target: '/api/block/image/team-a-base%2Faimg?;image_spec=team-b-victim/vimg' },
      { method: 'DELETE', target: '/api/block/image/team-a-base%2Faimg?x=1;image_spec=team-b-victim%2Fvimg' },
    ];
    for (const r of tricks) {
      // The trick is real: CherryPy and the dashboard's wrapper act on team-b's resource...
      const ceph = await direct(r);
      assert.match(String(ceph.pool_name ?? ceph.image_spec), /^team-b-victim/);
      // ...and the gateway refuses it before any decision.
      const res = await send((gw as RunningGateway).port, r);
      assert.equal(res.status, 400, res.body);
      assert.equal(JSON.parse(res.body).code, 'ambiguous_request');
    }
  });

  test('a query CherryPy reads as image-map coordinates is refused', async (t) => {
    if (!ready(t)) return;
    assert.deepEqual(await direct({ method: 'GET', target: '/api/pool/p?12,34' }), { pool_name: 'p', x: 12, y: 34 });
    for (const target of ['/api/pool/p?12,34', '/api/pool?1,2', '/api/summary?0,0&x=1']) {
      const res = await send((gw as RunningGateway).port, { method: 'GET', target });
      assert.equal(res.status, 400, res.body);
      assert.equal(JSON.parse(res.body).code, 'ambiguous_request');
    }
  });

  test('form-encoded and multipart bodies, whose fields CherryPy merges into the arguments, are refused', async (t) => {
    if (!ready(t)) return;
    const copy = {
      method: 'POST',
      target: '/api/block/image/team-a-p%2Fimg/copy',
      contentType: 'application/x-www-form-urlencoded',
      body: 'dest_pool_name=team-b-victim&dest_image_name=x',
    };
    assert.equal((await direct(copy)).dest_pool_name, 'team-b-victim');
    for (const contentType of [
      'application/x-www-form-urlencoded',
      'Application/X-WWW-Form-Urlencoded; charset=utf-8',
      'multipart/form-data; boundary=b',
      'multipart/mixed; boundary=b',
    ]) {
      const res = await send((gw as RunningGateway).port, { ...copy, contentType });
      assert.equal(res.status, 415, res.body);
      assert.equal(JSON.parse(res.body).code, 'unsupported_media_type');
    }
  });

  test('separators and encodings that are not tricks agree', async (t) => {
    if (!ready(t)) return;
    const cases: Sent[] = [
      { method: 'GET', target: '/api/block/image?pool_name=a%3Bb' },
      { method: 'GET', target: '/api/block/image?pool_name=a;offset=2' },
      { method: 'GET', target: '/api/block/image?;;pool_name=a+b&&offset=%2B1;' },
      { method: 'GET', target: '/api/block/image?pool_name=x&pool_name=y;pool_name' },
      { method: 'GET', target: '/api/block/image?=v&search' },
      { method: 'GET', target: '/api/pool/p%C3%A9?stats=true' },
      { method: 'POST', target: '/api/pool?pool=q', contentType: 'application/json', body: '{"pool":"team-a-x","pg_num":8}' },
      { method: 'POST', target: '/api/pool?pg_num=8', contentType: 'application/json; charset=utf-8', body: '{"pool":"team-a-x"}' },
      { method: 'POST', target: '/api/pool', contentType: 'text/javascript', body: '{"pool":"team-a-x"}' },
    ];
    for (const r of cases) assert.equal(await agreeOrRefuse(r), 'agreed', `${r.method} ${r.target}`);
  });
});

// ---- the property: random targets, queries and bodies ----

const PARAM_VALUES = [
  'team-a-p1',
  'rbd%2Fimg',
  'team-a%2Fns%2Fimg',
  'a%20b',
  'p%C3%A9',
  'x+y',
  'a;b',
  'a%3Bb',
  'a=b',
  'a,b',
  '1,2',
  'a%2541',
  'a%25',
  "a'b",
  '~x',
  'a@b:c',
];
const NAMES = [
  'pool_name',
  'image_spec',
  'pool',
  'data_pool',
  'dest_pool_name',
  'flags',
  'x',
  'y',
  'svc_id',
  'offset',
  'pool%5Fname',
  'pool_name%3B',
  'po+ol',
  '',
  ';',
  'a=b',
];
const VALUES = [
  'team-b-v',
  'team-a-1',
  '',
  'a;b',
  'a%3Bb',
  'a+b',
  'a%2Bb',
  '%20',
  '%C3%A9',
  '%zz',
  '%2541',
  '1,2',
  'a=b',
  '%3D',
  '%26',
  'x%2Fy',
  '%EF%BB%BF',
  "'",
  '@:$',
];
const pairArb = fc.oneof(
  fc.tuple(fc.constantFrom(...NAMES), fc.constantFrom(...VALUES)).map(([n, v]) => `${n}=${v}`),
  fc.constantFrom(...NAMES),
  fc.tuple(fc.constantFrom(...NAMES), fc.constantFrom(...VALUES)).map(([n, v]) => `${n}==${v}`),
);
const queryArb = fc
  .tuple(fc.constantFrom('', '', '1,2', '12,34&'), fc.array(fc.tuple(pairArb, fc.constantFrom('&', ';', '&&', ';;', '&;', ';&')), { maxLength: 4 }))
  .map(([lead, pairs]) => lead + pairs.map(([p, sep], i) => (i === 0 ? p : sep + p)).join(''));
const BODY_KEYS = ['pool', 'pool_name', 'image_spec', 'dest_pool_name', 'data_pool', 'flags', 'x', 'svc_id'];
const CONTENT_TYPES = [
  'application/json',
  'application/json',
  'application/json; charset=utf-8',
  'text/javascript',
  'Application/JSON',
  'text/plain',
  'application/x-www-form-urlencoded',
];
const bodyArb = fc.option(
  fc.record({
    contentType: fc.constantFrom(...CONTENT_TYPES),
    fields: fc.dictionary(fc.constantFrom(...BODY_KEYS), fc.constantFrom('team-b-v', 'team-a-1', 'a%2Fb', 'x;y')),
  }),
  { nil: undefined },
);
const requestArb = fc.record({
  op: fc.constantFrom(...OPS),
  params: fc.array(fc.constantFrom(...PARAM_VALUES), { minLength: 6, maxLength: 6 }),
  query: queryArb,
  body: bodyArb,
});

describe('CherryPy differential (property)', () => {
  test('every forwarded request is read by CherryPy and the dashboard exactly as the gateway decided, or refused', async (t) => {
    if (!ready(t)) return;
    const tally = { refused: 0, agreed: 0, 'ceph-refused': 0 };
    await fc
      .assert(
        fc.asyncProperty(requestArb, async ({ op, params, query, body }) => {
          let i = 0;
          const path = op.segments.map((s) => ('literal' in s ? s.literal : (params[i++] as string))).join('/');
          const withBody = body !== undefined && op.method !== 'GET';
          const target = `/${path}${query === '' ? '' : `?${query}`}`;
          const r: Sent = !withBody
            ? { method: op.method, target }
            : {
                method: op.method,
                target,
                contentType: body.contentType,
                body: body.contentType.includes('form') ? new URLSearchParams(body.fields).toString() : JSON.stringify(body.fields),
              };
          tally[await agreeOrRefuse(r)] += 1;
        }),
        fcParams(Number(process.env.CEPHGATE_FC_RUNS ?? 400)),
      )
      .catch((err: Error) => {
        throw new Error(`property failed with CEPHGATE_FC_SEED=${FC_SEED}: ${err.message}`, { cause: err });
      });
    t.diagnostic(`outcomes: ${JSON.stringify(tally)}`);
    // The property is only worth something if both kinds of case occur often.
    assert.ok(tally.agreed >= 50 && tally.refused >= 50, JSON.stringify(tally));
  });
});
