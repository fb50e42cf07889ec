// The real Ceph Dashboard web UI behind the gateway's single sign-on, in real Chromium against the real
// dashboard and the real dev OIDC provider (docs/dashboard-ui.md): alice opens the gateway, signs in at
// the provider, lands in the dashboard as herself (never seeing Ceph's password form), creates a team-a
// pool through the UI's own form (done in Ceph, audited with her name), is refused a team-b pool with a
// readable message (nothing created, the denial audited), does not see what her policy forbids and
// gets a denial when she forces its URL, cannot be driven by another site, and logs out for good.
// Screenshots of the signed-in dashboard and of a denial go to docs/images/.

import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { cephPools, unique } from '../security/support.ts';
import { CHROMIUM_ARGS } from '../support/chromium.ts';
import { type FullGateway, startFullGateway } from '../support/full-gateway.ts';
import { need, releaseSuite, testEnv } from '../support/requirements.ts';

const IMAGES = new URL('../../docs/images/', import.meta.url);
/** Run once per Ceph release (each serves its own UI build); the docs' screenshots come from Pacific's. */
const RELEASE = releaseSuite();
/** The landing page's component: Pacific's dashboard, or Reef's new one (dashboard v3, its default). */
const LANDING = 'cd-health, cd-dashboard-v3';
const shot = (name: string) => (RELEASE === 'pacific' ? new URL(name, IMAGES).pathname : join(tmpdir(), `cephgate-${RELEASE}-${name}`));
const s = unique();

let gw: FullGateway | null = null;
let browser: Browser | null = null;
let context: BrowserContext | null = null;
let page: Page | null = null;
/** Every request the page made, to prove what it never did (Ceph's password login). */
const requests: string[] = [];
const g = () => gw as FullGateway;
const p = () => page as Page;

/** The audit records of alice's calls, read by the auditor through the audit API. */
async function auditOf(filter: string): Promise<
  {
    method: string;
    route: string | null;
    status: number | null;
    principal: { id: string; auth_method: string } | null;
    decision: { effect: string; rule_id: string | null } | null;
    pools: string[];
  }[]
> {
  const res = await fetch(`${g().url}/gateway/v1/audit?${filter}&limit=100`, { headers: { authorization: `Bearer ${await g().token('dave')}` } });
  assert.equal(res.status, 200);
  return ((await res.json()) as { items: never[] }).items;
}

async function signIn(): Promise<void> {
  context = await (browser as Browser).newContext({ viewport: { width: 1400, height: 900 } });
  page = await context.newPage();
  page.on('request', (r) => requests.push(`${r.method()} ${new URL(r.url()).pathname}`));
  await p().goto(`${g().url}/`);
  // Not signed in: the gateway sends the browser to the identity provider, not to Ceph's login form.
  await p().waitForURL((u) => u.href.startsWith(g().idp.issuer));
  await p().fill('#username', 'alice');
  await p().fill('#password', 'demo');
  await Promise.all([p().waitForURL(`${g().url}/#/dashboard`, { timeout: 60_000 }), p().click('#submit')]);
}

describe('the Ceph Dashboard web UI behind single sign-on', () => {
  before(async () => {
    if (!testEnv.cephUrl || !testEnv.chromium) return;
    gw = await startFullGateway({ browserLogin: true });

    browser = await chromium.launch({ executablePath: testEnv.chromium, args: [...CHROMIUM_ARGS] });
    mkdirSync(IMAGES, { recursive: true });
  });
  after(async () => {
    await context?.close();
    await browser?.close();
    await gw?.close();
  });

  test("alice signs in at the IdP and lands in the dashboard as herself, never seeing Ceph's login form", async (t) => {
    if (!need(t, 'ceph', 'chromium')) return;
    await signIn();
    await p().click('cd-identity a[ngbdropdowntoggle]');
    // Pacific says "Signed in as", Reef "Logged in as".
    assert.match((await p().textContent('cd-identity')) ?? '', /(Signed|Logged) in as\s+Alice Anders/, 'her name from the identity provider');
    await p().keyboard.press('Escape');
    assert.equal(await p().locator('input#password').count(), 0, 'no password field in the dashboard');
    assert.equal(requests.filter((r) => r === 'POST /api/auth').length, 0, 'the UI never posted a Ceph password');
    assert.ok(requests.includes('POST /api/auth/check'), 'the UI asked the gateway whether it is logged in');
    await p().waitForSelector(LANDING, { timeout: 30_000 });
    await p().screenshot({ path: shot('dashboard-ui-signed-in.png') });
  });

  test('alice creates a team-a pool through the UI form: it exists in Ceph and the audit record names her', async (t) => {
    if (!need(t, 'ceph', 'chromium')) return;
    const pool = `team-a-ui${s}`;
    const answers: string[] = [];
    p().on('response', (r) => {
      if (new URL(r.url()).pathname.startsWith('/api/pool') || new URL(r.url()).pathname.startsWith('/ui-api/pool'))
        void r
          .text()
          .then((text) => answers.push(`${r.request().method()} ${r.url()} ${r.status()} ${r.status() >= 400 ? `${text} ${r.request().postData()}` : ''}`));
    });
    await createPoolInUi(pool);
    try {
      await p().waitForURL(/#\/pool$/, { timeout: 60_000 });
    } catch (err) {
      await p().screenshot({ path: '/tmp/pool-create-failed.png' });
      throw new Error(
        `pool form did not finish: ${answers.join('; ')}; toasts: ${await p()
          .locator('.toast-container')
          .textContent()
          .catch(() => '')}`,
        { cause: err },
      );
    }
    let pools: string[] = [];
    for (let i = 0; i < 30 && !pools.includes(pool); i++) {
      if (i > 0) await new Promise((r) => setTimeout(r, 1000));
      pools = await cephPools();
    }
    assert.ok(pools.includes(pool), `${pool} exists in Ceph`);
    const rows = (await auditOf(`pool=${pool}`)).filter((r) => r.method === 'POST');
    assert.equal(rows.length, 1, JSON.stringify(rows));
    assert.equal(rows[0]?.principal?.id, `${g().idp.issuer}#alice`);
    assert.equal(rows[0]?.principal?.auth_method, 'session');
    assert.equal(rows[0]?.decision?.rule_id, 'team-a-own-pools');
  });

  test('a team-b pool is refused with a readable message in the UI; nothing is created; the denial is audited', async (t) => {
    if (!need(t, 'ceph', 'chromium')) return;
    const pool = `team-b-ui${s}`;
    await createPoolInUi(pool);
    // The UI shows the gateway's reason in its notification (a 403 would only show a generic page).
    const toast = p().locator('.toast-container .ngx-toastr', { hasText: 'Not allowed by the gateway' });
    await toast.first().waitFor({ timeout: 30_000 });
    assert.match((await toast.first().textContent()) ?? '', /no rule allows/);
    await p().screenshot({ path: shot('dashboard-ui-denied.png') });
    assert.equal((await cephPools()).includes(pool), false, 'nothing reached Ceph');
    const rows = await auditOf(`pool=${pool}&decision=deny`);
    assert.ok(rows.length >= 1, 'the denial is audited');
    assert.equal(rows[0]?.principal?.id, `${g().idp.issuer}#alice`);
  });

  test('what her policy forbids is hidden (user management), and forcing its URL shows a denial, not data', async (t) => {
    if (!need(t, 'ceph', 'chromium')) return;
    await p().goto(`${g().url}/#/dashboard`);
    await p().waitForSelector(LANDING, { timeout: 30_000 });
    assert.equal(await p().locator('cd-administration a[ngbdropdowntoggle]').count(), 0, 'no dashboard-settings menu: user management is not offered');
    const answers: number[] = [];
    p().on('response', (r) => {
      if (new URL(r.url()).pathname === '/api/user') answers.push(r.status());
    });
    await p().goto(`${g().url}/#/user-management/users`);
    await p().waitForURL(/#\/(error|login)/, { timeout: 30_000 });
    // Pacific's UI asks for the list and is refused; Reef's route guard reads the permissions the
    // gateway reported and refuses before asking. Either way no answer carried the list.
    assert.ok(
      answers.every((status) => status === 403),
      `the users list was refused: ${answers}`,
    );
    if (RELEASE === 'pacific') assert.ok(answers.length > 0, 'the UI asked and was refused');
    assert.equal(await p().locator('cd-user-list table tbody tr').count(), 0, 'no user rows shown');
    // And the gateway refuses it to her session whatever the UI does.
    const direct = await p().evaluate(async () => (await fetch('/api/user')).status);
    assert.equal(direct, 403);
  });

  test('another site cannot change anything with her cookie: a form post and a cross-origin fetch', async (t) => {
    if (!need(t, 'ceph', 'chromium')) return;
    const pool = `team-a-x${s}`;
    const evil: Server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(`<form id="f" method="POST" action="${g().url}/api/pool" enctype="text/plain"><input name='{"pool":"${pool}","pg_num":8,"x":"' value='"}'></form>
        <script>fetch("${g().url}/api/pool", { method: "POST", credentials: "include", headers: { "content-type": "application/json" }, body: JSON.stringify({ pool: "${pool}", pg_num: 8 }) }).catch(() => {}).finally(() => document.getElementById("f").submit());</script>`);
    });
    await new Promise<void>((r) => evil.listen(0, '127.0.0.1', r));
    try {
      const other = await (context as BrowserContext).newPage();
      // Another origin (another port on the same host): the browser still sends her cookie to the gateway.
      const refusal = other.waitForResponse((r) => r.url() === `${g().url}/api/pool` && r.request().method() === 'POST');
      await other.goto(`http://localhost:${(evil.address() as AddressInfo).port}/`);
      const res = await refusal;
      assert.ok(res.status() >= 400, `refused: ${res.status()}`);
      await other.close();
    } finally {
      evil.close();
    }
    assert.equal((await cephPools()).includes(pool), false, 'nothing reached Ceph');
  });

  test('signing out in the UI ends the gateway session: the old cookie is worthless', async (t) => {
    if (!need(t, 'ceph', 'chromium')) return;
    const cookies = await (context as BrowserContext).cookies();
    const session = cookies.find((c) => c.name.includes('cephgate_session') && !c.name.endsWith('_login'));
    assert.ok(session);
    await p().goto(`${g().url}/#/dashboard`);
    await p().click('cd-identity a[ngbdropdowntoggle]');
    await p()
      .locator('cd-identity')
      .getByText(/^\s*(Sign out|Log out)\s*$/)
      .click();
    await p().waitForURL((u) => !u.href.startsWith(`${g().url}/#/dashboard`), { timeout: 30_000 });
    const res = await fetch(`${g().url}/api/health/minimal`, { headers: { cookie: `${session.name}=${session.value}` } });
    assert.equal(res.status, 401, 'the old session cookie no longer works');
  });
});

async function createPoolInUi(pool: string): Promise<void> {
  await p().goto(`${gw?.url}/#/pool/create`);
  await p().waitForSelector('input#name', { timeout: 30_000 });
  await p().fill('input#name', pool);
  await p().selectOption('select#poolType', 'replicated');
  // The test cluster has one OSD, so the form can only propose `size: 1`, which Ceph refuses from the
  // dashboard ("pass --yes-i-really-mean-it"). Left out, Ceph uses the cluster's default (1): the only
  // change to what the UI sends, and one a real cluster with three OSDs never needs.
  await p().route('**/api/pool', async (route) => {
    const body = route.request().method() === 'POST' ? (JSON.parse(route.request().postData() ?? '{}') as Record<string, unknown>) : null;
    if (body?.size !== 1) return route.continue();
    delete body.size;
    await route.continue({ postData: JSON.stringify(body) });
  });
  await p().click('cd-submit-button button');
}
