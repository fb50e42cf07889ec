// The pages are safe by construction: every value from a record is escaped text (markup, attribute
// breakers, javascript: links), links carry record values only as encoded parameters, and the page
// CSP allows exactly the inline style and script the pages contain, by hash.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import type { AuditRecord } from '../../src/audit/query.ts';
import { PAGE_CSP, SCRIPT, STYLE } from '../../src/web/pages/assets.ts';
import { parseViewerQuery } from '../../src/web/pages/filters.ts';
import { RecordPage } from '../../src/web/pages/record-view.tsx';
import { ViewerPage } from '../../src/web/pages/viewer-view.tsx';

const EVIL = ['<script>alert(1)</script>', '"><img src=x onerror=alert(1)>', "' onmouseover='alert(1)", 'javascript:alert(1)', '=HYPERLINK("http://evil","x")'];

function hostileRecord(): AuditRecord {
  return {
    id: '01a22a46-473b-7548-b623-f34c89f172b1',
    seq: 3,
    hash: 'a'.repeat(64),
    request_id: EVIL[1] as string,
    received_at: '2026-11-26T20:05:01.123Z',
    forwarded_at: null,
    completed_at: null,
    cluster: EVIL[0] as string,
    principal: { id: EVIL[3] as string, name: EVIL[0] as string, email: EVIL[2] as string, groups: EVIL, auth_method: 'session', api_key_name: null },
    client_ip: '10.0.0.1',
    user_agent: EVIL[0] as string,
    method: 'POST',
    raw_path: `/api/pool?x=${EVIL[1]}`,
    route: '/api/pool',
    operation: 'Pool.create',
    path_params: { pool_name: EVIL[0] as string },
    pools: EVIL,
    query: { x: EVIL },
    body: { pool: EVIL[4], nested: { html: EVIL[1] } },
    decision: {
      effect: 'deny',
      rule_id: EVIL[2] as string,
      reason: EVIL[0] as string,
      policy_version: 'v',
      ceph_account: null,
      shadow: [{ ruleId: EVIL[1], effect: 'deny' }],
    },
    outcome: 'refused',
    status: 403,
    upstream_status: null,
    ceph_error: { detail: EVIL[0] as string, code: EVIL[1] as string },
    ceph_task: null,
    error_code: 'policy_denied',
    duration_ms: { total: null, upstream: null },
    outcome_seq: null,
    outcome_hash: null,
  };
}

/** Markup the page itself writes contains none of these; only a record value could bring them. */
function assertNoInjectedMarkup(html: string): void {
  assert.ok(!html.includes('<img'), 'no <img from a record');
  assert.ok(!html.includes('<script>alert'), 'no <script> from a record');
  assert.ok(
    !/onerror=|onmouseover=/i.test(html.replaceAll('onerror=alert(1)&gt;', '').replaceAll('&#39; onmouseover=&#39;', '')),
    'no event handler attribute',
  );
  assert.ok(!/href="javascript:/i.test(html), 'no javascript: link');
  assert.equal(html.match(/<script/g)?.length, 1, 'only the page script');
}

describe('pages render record values as text', () => {
  test('the list', async () => {
    const html = await ViewerPage({
      who: EVIL[0] as string,
      query: parseViewerQuery({ principal: EVIL[1], pool: EVIL[0] }),
      items: [hostileRecord()],
      next: null,
      apiQuery: '',
      pageSize: 50,
    }).toString();
    assertNoInjectedMarkup(html);
    assert.ok(html.includes('&lt;img src=x onerror=alert(1)&gt;'));
    // Record values in links are query parameters only, percent-encoded.
    assert.ok(html.includes('href="/gateway/audit?principal=javascript%3Aalert%281%29"'), html.slice(0, 0));
  });

  test('the record', async () => {
    const r = hostileRecord();
    const event = { kind: 'intent' as const, seq: 3, prevHash: 'b'.repeat(64), hash: 'a'.repeat(64), hashMatches: true, previous: null, next: null };
    const html = await RecordPage({
      who: 'dave',
      record: r,
      place: { intent: event, outcome: null, head: { seq: 3, hash: 'a'.repeat(64) }, checkpoint: null },
      verification: null,
      back: '?pool=%3Cscript%3E',
    }).toString();
    assertNoInjectedMarkup(html);
    assert.ok(html.includes('=HYPERLINK'), 'the formula is shown, as text');
  });
});

describe('the page Content-Security-Policy', () => {
  const hash = (s: string) => `'sha256-${createHash('sha256').update(s).digest('base64')}'`;
  test('allows exactly the inline style and script by hash, nothing inline otherwise, no framing', () => {
    assert.ok(PAGE_CSP.includes(`style-src ${hash(STYLE)}`));
    assert.ok(PAGE_CSP.includes(`script-src ${hash(SCRIPT)}`));
    assert.ok(PAGE_CSP.includes("default-src 'none'"));
    assert.ok(PAGE_CSP.includes("frame-ancestors 'none'"));
    assert.ok(PAGE_CSP.includes("form-action 'self'"));
    assert.ok(!/unsafe-/.test(PAGE_CSP));
  });
  test('the inline style and script are served exactly as hashed', async () => {
    const html = await ViewerPage({ who: 'd', query: parseViewerQuery({}), items: [], next: null, apiQuery: '', pageSize: 50 }).toString();
    assert.ok(html.includes(`<style>${STYLE}</style>`));
    assert.ok(html.includes(`<script>${SCRIPT}</script>`));
    assert.ok(!/ style="/.test(html), 'no style attributes (the CSP would block them)');
  });
});
