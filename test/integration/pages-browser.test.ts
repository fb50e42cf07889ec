// The pages for people in real Chromium, through the whole gateway: a signed-out visitor gets the
// sign-in page; the auditor (dave, group auditors) signs in, filters the viewer by alice's denials
// and sees exactly what the audit API returns, opens a record, downloads the CSV and it equals the
// API export, and runs the chain verification with the form's CSRF token; alice gets a 403 page that
// is recorded like the API's refusal; a record whose path and body carry HTML and formulas shows as
// text and exports defused. Screenshots for the docs land in docs/images/.

import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import type { AuditRecord } from '../../src/audit/query.ts';
import { CHROMIUM_ARGS } from '../support/chromium.ts';
import { need, testEnv } from '../support/requirements.ts';
import { type PagesGateway, startPagesGateway } from './pages-gateway.ts';

const IMAGES = 'docs/images';
const XSS_POOL = '<img src=x onerror=alert(1)>';
const FORMULA_POOL = '=HYPERLINK("http://evil.example","click")';

let g: PagesGateway | null = null;
let browser: Browser | null = null;
let dave: { context: BrowserContext; page: Page } | null = null;
/** Every dialog (alert) and CSP violation any page raised: there must be none. */
const dialogs: string[] = [];
const violations: string[] = [];

async function api<T>(path: string, user: string, init: RequestInit = {}): Promise<{ status: number; body: T; text: string; headers: Headers }> {
  const gw = g as PagesGateway;
  const res = await fetch(`${gw.url}${path}`, { ...init, headers: { authorization: `Bearer ${await gw.token(user)}`, ...(init.headers ?? {}) } });
  const text = await res.text();
  let body: unknown = null;
  try {
    body = JSON.parse(text);
  } catch {}
  return { status: res.status, body: body as T, text, headers: res.headers };
}

async function newPage(context: BrowserContext): Promise<Page> {
  const page = await context.newPage();
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  page.on('console', (m) => {
    if (/Content Security Policy|Refused to/i.test(m.text())) violations.push(m.text());
  });
  return page;
}

/** Signs in at the dev IdP from wherever the gateway sent the browser, and waits to be back at `back`. */
async function signInAtIdp(page: Page, user: string, back: string): Promise<void> {
  const gw = g as PagesGateway;
  await page.waitForURL(`${gw.idp.issuer}/**`);
  await page.fill('#username', user);
  await page.fill('#password', 'demo');
  await Promise.all([page.waitForURL(`${gw.url}${back}`), page.click('#submit')]);
}

const aliceId = () => `${(g as PagesGateway).idp.issuer}#alice`;

before(async () => {
  if (!testEnv.chromium) return;
  g = await startPagesGateway();
  browser = await chromium.launch({ executablePath: testEnv.chromium, args: [...CHROMIUM_ARGS] });
  mkdirSync(IMAGES, { recursive: true });
  // alice's requests, each refused by the policy before anything could reach Ceph (none is there).
  const json = { 'content-type': 'application/json' };
  assert.equal((await api('/api/pool/%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E', 'alice', { method: 'DELETE' })).status, 403);
  const body = JSON.stringify({
    pool: FORMULA_POOL,
    pg_num: 8,
    pool_type: 'replicated',
    application_metadata: ['<script>alert(2)</script>', '@SUM(1+1)*cmd|" /C calc"!A0'],
  });
  assert.equal((await api('/api/pool', 'alice', { method: 'POST', headers: json, body })).status, 403);
  assert.equal((await api('/api/osd/flags', 'alice', { method: 'PUT', headers: json, body: JSON.stringify({ flags: ['noout'] }) })).status, 403);
  assert.equal((await api('/api/logs/all', 'alice')).status, 403);
  // Allowed, so forwarded: no Ceph answers (the record shows the failure), and bob is denied an image.
  await api('/api/pool', 'alice', { method: 'POST', headers: json, body: JSON.stringify({ pool: 'team-a-pages', pg_num: 8, pool_type: 'replicated' }) });
  assert.equal((await api('/api/block/image/rbd%2Fsecret', 'bob', { method: 'DELETE' })).status, 403);
});

after(async () => {
  await dave?.context.close();
  await browser?.close();
  await g?.close();
});

describe('the pages in real Chromium', () => {
  test('a signed-out visitor gets "Sign in with ..."; dave signs in from it and sees who he is and what he may do', async (t) => {
    if (!need(t, 'chromium')) return;
    const gw = g as PagesGateway;
    const context = await (browser as Browser).newContext({ viewport: { width: 1280, height: 860 } });
    const page = await newPage(context);
    const res = await page.goto(`${gw.url}/gateway`);
    assert.equal(res?.status(), 401);
    assert.match((await page.textContent('body')) ?? '', /Sign in with/);
    await page.click('text=Sign in with');
    await signInAtIdp(page, 'dave', '/gateway');
    const text = (await page.textContent('main')) ?? '';
    assert.match(text, /Hello, Dave Dunn/);
    assert.match(text, /auditors/);
    assert.match(text, /Session ends/);
    assert.match(text, /Auditors read the audit log/);
    assert.ok(await page.isVisible('a.button[href="/gateway/audit"]'), 'the audit viewer is offered to an auditor');
    assert.ok(await page.isVisible('a[href="/gateway/logout"]'), 'a session can sign out');
    // The hashed script ran under the CSP: every time has the local time as its tooltip.
    assert.match((await page.getAttribute('main time', 'title')) ?? '', /your local time/);
    await page.screenshot({ path: `${IMAGES}/landing.png`, fullPage: true });
    dave = { context, page };
  });

  test('alice gets a clear 403 page, not data, recorded as the audit API records its refusal', async (t) => {
    if (!need(t, 'chromium')) return;
    const gw = g as PagesGateway;
    const context = await (browser as Browser).newContext();
    const page = await newPage(context);
    await page.goto(`${gw.url}/gateway/audit`);
    await signInAtIdp(page, 'alice', '/gateway/audit');
    const res = await page.goto(`${gw.url}/gateway/audit`);
    assert.equal(res?.status(), 403);
    assert.match((await page.textContent('main')) ?? '', /You are not allowed to see this page[\s\S]*policy_denied[\s\S]*recorded in the audit log/);
    assert.equal(await page.locator('table').count(), 0, 'no records on the page');
    // Her start page offers no viewer.
    await page.goto(`${gw.url}/gateway`);
    assert.equal(await page.locator('a[href="/gateway/audit"]').count(), 0);
    assert.match((await page.textContent('main')) ?? '', /Team A never changes OSDs/);
    await context.close();

    const viaApi = await api('/gateway/v1/audit', 'alice');
    assert.equal(viaApi.status, 403);
    const both = await api<{ items: AuditRecord[] }>(`/gateway/v1/audit?principal=${encodeURIComponent(aliceId())}&operation=Gateway.audit.read`, 'dave');
    const page403 = both.body.items.find((r) => r.raw_path === '/gateway/audit' && r.principal?.auth_method === 'session');
    const api403 = both.body.items.find((r) => r.raw_path === '/gateway/v1/audit');
    assert.ok(page403 && api403, 'both refusals are recorded');
    const shape = (r: AuditRecord) => ({
      decision: r.decision?.effect,
      rule: r.decision?.rule_id,
      status: r.status,
      code: r.error_code,
      outcome: r.outcome,
      op: r.operation,
    });
    assert.deepEqual(shape(page403), shape(api403));
    assert.deepEqual(shape(page403), { decision: 'deny', rule: null, status: 403, code: 'policy_denied', outcome: 'refused', op: 'Gateway.audit.read' });
  });

  test('dave filters by alice and deny, sees exactly what the API returns, opens a record, and the CSV equals the API export', async (t) => {
    if (!need(t, 'chromium')) return;
    const gw = g as PagesGateway;
    const { page } = dave as { page: Page };
    await page.goto(`${gw.url}/gateway/audit`);
    await page.fill('#filter-principal', aliceId());
    await page.selectOption('#filter-decision', 'deny');
    await Promise.all([page.waitForURL(/decision=deny/), page.click('button[type=submit]')]);
    const shown = await page.$$eval('tbody tr td:first-child a', (as) => as.map((a) => (a.getAttribute('href') ?? '').split('?')[0]?.split('/').pop()));
    const filter = `principal=${encodeURIComponent(aliceId())}&decision=deny`;
    const listed = await api<{ items: AuditRecord[] }>(`/gateway/v1/audit?${filter}&limit=50`, 'dave');
    assert.deepEqual(
      shown,
      listed.body.items.map((r) => r.id),
    );
    assert.ok(shown.length >= 5, `alice's denials: ${shown.length}`);
    // Hostile values are text in the list.
    const cells = await page.$$eval('tbody td:nth-child(4)', (tds) => tds.map((td) => td.textContent));
    assert.ok(cells.includes(XSS_POOL) && cells.includes(FORMULA_POOL), JSON.stringify(cells));
    await page.screenshot({ path: `${IMAGES}/audit-viewer.png`, fullPage: true });

    // The export button streams the same filter: byte for byte the API's export.
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('text=Export CSV')]);
    const csv = readFileSync((await download.path()) as string, 'utf8');
    const exported = await api(`/gateway/v1/audit/export?format=csv&${filter}`, 'dave');
    assert.equal(exported.status, 200);
    assert.equal(csv, exported.text);
    assert.ok(csv.includes(`'${FORMULA_POOL.replaceAll('"', '""')}`), 'the formula pool is defused with a leading apostrophe');
    for (const line of csv.split('\r\n')) assert.ok(!/(^|,)"?[=+@-]/.test(line), `no cell starts a formula: ${line.slice(0, 120)}`);
    const ndjsonHref = await page.getAttribute('text=Export NDJSON', 'href');
    assert.equal(ndjsonHref, `/gateway/v1/audit/export?format=ndjson&${new URLSearchParams({ principal: aliceId(), decision: 'deny' })}`);

    // The record whose path and body carry HTML and formulas.
    const hostile = listed.body.items.find((r) => r.pools.includes(FORMULA_POOL));
    assert.ok(hostile);
    await page.click(`a[href^="/gateway/audit/record/${hostile.id}"]`);
    await page.waitForURL(`**/gateway/audit/record/${hostile.id}**`);
    const detail = (await page.textContent('main')) ?? '';
    assert.ok(detail.includes(FORMULA_POOL));
    assert.ok(detail.includes('<script>alert(2)</script>'), 'the body shows its markup as text');
    assert.match(detail, /hash matches content/);
    assert.match(detail, /Shadow rules/);
    assert.equal(await page.locator('main img, main script').count(), 0, 'no element came from a record');
    await page.screenshot({ path: `${IMAGES}/audit-record.png`, fullPage: true });
    const xss = listed.body.items.find((r) => r.pools.includes(XSS_POOL));
    await page.goto(`${gw.url}/gateway/audit/record/${xss?.id}`);
    assert.ok(((await page.textContent('main')) ?? '').includes(XSS_POOL));
    assert.equal(await page.locator('main img').count(), 0);
    assert.deepEqual(dialogs, []);
  });

  test('dave runs the chain verification from its page; a form without the session token or from another site is refused', async (t) => {
    if (!need(t, 'chromium')) return;
    const gw = g as PagesGateway;
    const { page, context } = dave as { page: Page; context: BrowserContext };
    await page.goto(`${gw.url}/gateway/audit/verify`);
    await Promise.all([page.waitForURL(`${gw.url}/gateway/audit/verify`), page.click('text=Verify the whole chain now')]);
    await page.waitForSelector('text=intact', { timeout: 20_000 }).catch(async (err: unknown) => {
      throw new Error(`no verdict: ${page.url()} ${await page.textContent('main')}`, { cause: err });
    });
    assert.match((await page.textContent('main')) ?? '', /Every hash from seq 1 to/);

    const cookie = (await context.cookies(gw.url)).map((c) => `${c.name}=${c.value}`).join('; ');
    const token = await page.getAttribute('input[name=csrf_token]', 'value');
    assert.ok(token);
    const post = (body: string, headers: Record<string, string>) =>
      fetch(`${gw.url}/gateway/audit/verify`, {
        method: 'POST',
        redirect: 'manual',
        headers: { cookie, 'content-type': 'application/x-www-form-urlencoded', ...headers },
        body,
      });
    const noToken = await post('', { origin: gw.url, 'sec-fetch-site': 'same-origin' });
    assert.equal(noToken.status, 403);
    assert.equal(((await noToken.json()) as { code: string }).code, 'csrf_failed');
    const crossSite = await post(`csrf_token=${encodeURIComponent(token)}`, { origin: 'http://evil.example', 'sec-fetch-site': 'cross-site' });
    assert.equal(crossSite.status, 403);
    const sameSite = await post(`csrf_token=${encodeURIComponent(token)}`, { origin: gw.url, 'sec-fetch-site': 'same-origin' });
    assert.equal(sameSite.status, 303);
    // Starting a verification is recorded, like any change made through the gateway.
    const runs = await api<{ items: AuditRecord[] }>('/gateway/v1/audit?method=POST', 'dave');
    assert.ok(runs.body.items.some((r) => r.raw_path === '/gateway/audit/verify' && r.status === 200 && r.principal?.auth_method === 'session'));
    assert.ok(runs.body.items.some((r) => r.raw_path === '/gateway/audit/verify' && r.error_code === 'csrf_failed'));
  });

  test('the summary counts alice’s denials per day; every page carries the strict CSP and raised no violation', async (t) => {
    if (!need(t, 'chromium')) return;
    const gw = g as PagesGateway;
    const { page } = dave as { page: Page };
    const res = await page.goto(`${gw.url}/gateway/audit/summary`);
    const row = page.locator('tbody tr', { hasText: aliceId() });
    assert.match((await row.textContent()) ?? '', /\d+ \/ [1-9]\d*/);
    await page.screenshot({ path: `${IMAGES}/audit-summary.png`, fullPage: true });
    const csp = (await res?.allHeaders())?.['content-security-policy'] ?? '';
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'sha256-[A-Za-z0-9+/=]+'/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    assert.equal((await res?.allHeaders())?.['x-frame-options'], 'DENY');
    assert.deepEqual(violations, []);
    assert.deepEqual(dialogs, []);
  });
});
