// The pages' pure parts: the viewer's filter form (empty means any, datetime-local is UTC, the same
// strictness as the audit API, the export link's parameters), the summary's day range, and the
// example policies put into words for each demo user.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { encodeCursor } from '../../src/audit/query.ts';
import { loadCatalogue } from '../../src/ceph/catalogue.ts';
import type { Principal } from '../../src/core/principal.ts';
import { loadPolicyDir } from '../../src/policy/files.ts';
import { apiParams, formParams, parseViewerQuery } from '../../src/web/pages/filters.ts';
import { rulesFor } from '../../src/web/pages/rules-in-words.ts';
import { parseSummaryQuery, SUMMARY_MAX_DAYS } from '../../src/web/pages/summary.ts';

describe('the viewer filter form', () => {
  test('empty fields are "any"; typed values become the same filter the audit API builds', () => {
    const q = parseViewerQuery({
      from: '2026-11-26T20:05',
      to: '2026-11-27T00:00:00+02:00',
      principal: ' https://idp.example#alice ',
      group: '',
      decision: 'deny',
      status: '403',
      outcome: 'unknown',
      request_id: 'r-1',
      pool: '<script>',
    });
    assert.deepEqual(q.problems, {});
    assert.deepEqual(q.filter, {
      from: new Date('2026-11-26T20:05:00Z'),
      to: new Date('2026-11-26T22:00:00Z'),
      principal: 'https://idp.example#alice',
      decision: 'deny',
      status: 403,
      outcome: 'unknown',
      requestId: 'r-1',
      pool: '<script>',
    });
    assert.equal(
      apiParams(q).toString(),
      'from=2026-11-26T20%3A05%3A00.000Z&to=2026-11-26T22%3A00%3A00.000Z&principal=https%3A%2F%2Fidp.example%23alice&pool=%3Cscript%3E&decision=deny&outcome=unknown&status=403&request_id=r-1',
    );
  });

  test('bad values are problems per field, never a filter that silently matches more', () => {
    const q = parseViewerQuery({
      from: 'yesterday',
      decision: 'maybe',
      status: '99',
      method: 'get',
      outcome: 'lost',
      cursor: 'nope',
      principal: 'x'.repeat(501),
    });
    assert.deepEqual(Object.keys(q.problems).sort(), ['cursor', 'decision', 'from', 'method', 'outcome', 'principal', 'status']);
    assert.deepEqual(q.filter, {});
    assert.equal(q.cursor, null);
  });

  test("a cursor of the API's own shape is kept for the next page", () => {
    const cursor = encodeCursor('2026-11-26T20:05:00.123456Z', '01a22a46-473b-7548-b623-f34c89f172b1');
    assert.equal(parseViewerQuery({ cursor }).cursor, cursor);
  });

  test('links carry the filter as typed, encoded', () => {
    assert.equal(formParams({ principal: 'a#b&c', decision: 'deny' }, { cursor: 'x' }), '?principal=a%23b%26c&decision=deny&cursor=x');
    assert.equal(formParams({}), '');
  });
});

describe('the summary range', () => {
  const now = new Date('2026-11-30T15:00:00Z');
  test('defaults to the last 7 UTC days, today included', () => {
    const r = parseSummaryQuery({}, now);
    assert.equal(r.problem, null);
    assert.equal(r.from.toISOString(), '2026-11-24T00:00:00.000Z');
    assert.equal(r.to.toISOString(), '2026-12-01T00:00:00.000Z');
    assert.equal(r.form.by, 'principal');
  });
  test('takes whole days, by pool or person, and refuses bad or too long ranges', () => {
    const r = parseSummaryQuery({ from: '2026-11-01', to: '2026-11-03', by: 'pool', group: 'team-a' }, now);
    assert.equal(r.problem, null);
    assert.deepEqual(
      [r.from.toISOString(), r.to.toISOString(), r.form.by, r.form.group],
      ['2026-11-01T00:00:00.000Z', '2026-11-04T00:00:00.000Z', 'pool', 'team-a'],
    );
    assert.match(parseSummaryQuery({ from: '2026-02-30' }, now).problem ?? '', /YYYY-MM-DD/);
    assert.match(parseSummaryQuery({ from: '2026-11-05', to: '2026-11-01' }, now).problem ?? '', /between 1 and/);
    assert.match(parseSummaryQuery({ from: '2026-01-01', to: '2026-12-01' }, now).problem ?? '', new RegExp(`${SUMMARY_MAX_DAYS} days`));
  });
});

describe('what you may do, in words', () => {
  const loaded = loadPolicyDir('policies', { catalogues: [loadCatalogue('pacific')], accounts: null, maxInspectBytes: 65536 });
  assert.ok(loaded.ok, JSON.stringify(!loaded.ok && loaded.issues));
  const rules = loaded.engine.rules;
  const who = (id: string, groups: string[], method: Principal['method'] = 'session'): Principal => ({
    id,
    name: id,
    email: null,
    groups,
    method,
    authenticatedAt: new Date(),
    apiKeyName: method === 'api_key' ? 'ci' : null,
    claims: {},
  });

  test('team A sees its denies first, its allows with their pool condition, and the API-key trial only with an API key', () => {
    const session = rulesFor(rules, who('idp#alice', ['team-a']));
    assert.ok(session.never.some((r) => r.id === 'team-a-never-osd' && r.headline === 'Team A never changes OSDs'));
    const own = session.allowed.find((r) => r.id === 'team-a-own-pools');
    assert.ok(own?.details.includes('when every pool the request names matches "team-a-*"'), JSON.stringify(own));
    assert.ok(own?.details.includes('served by the Ceph account operator'));
    assert.ok(!session.allowed.some((r) => r.id.startsWith('team-b')), "no other team's rules");
    assert.deepEqual(session.trial, []);
    const key = rulesFor(rules, who('apikey:1', ['team-a'], 'api_key'));
    assert.deepEqual(
      key.trial.map((r) => r.id),
      ['team-a-api-keys-no-pool-delete'],
    );
  });

  test('an auditor reads the audit log; break-glass only counts from an interactive login; nobody else is named', () => {
    assert.ok(rulesFor(rules, who('idp#dave', ['auditors'])).allowed.some((r) => r.id === 'auditors-read-audit' && r.details[0] === 'read the audit log'));
    assert.ok(rulesFor(rules, who('idp#erin', ['breakglass'])).allowed.some((r) => r.id === 'breakglass-all'));
    assert.ok(!rulesFor(rules, who('apikey:2', ['breakglass'], 'api_key')).allowed.some((r) => r.id === 'breakglass-all'));
    const nobody = rulesFor(rules, who('idp#zed', ['nobody'], 'oidc_bearer'));
    assert.deepEqual([nobody.never, nobody.trial], [[], []]);
  });
});
