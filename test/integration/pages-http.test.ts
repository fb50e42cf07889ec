// The pages over plain HTTP through the whole gateway (no browser): what the start page shows for each
// kind of credential (bearer token, API key; the session is in pages-browser.test.ts), API clients
// keeping Ceph's JSON errors while browsers get pages, and the edges of the forms (bad filters, an
// unknown record, a bearer starting a verification, an oversized form, two credentials at once).

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type PagesGateway, startPagesGateway } from './pages-gateway.ts';

let g: PagesGateway;

const HTML = { accept: 'text/html,application/xhtml+xml' };

async function get(path: string, headers: Record<string, string>): Promise<{ status: number; text: string; headers: Headers }> {
  const res = await fetch(`${g.url}${path}`, { headers, redirect: 'manual' });
  return { status: res.status, text: await res.text(), headers: res.headers };
}
const bearer = async (user: string) => ({ authorization: `Bearer ${await g.token(user)}` });

before(async () => {
  g = await startPagesGateway();
  // Denials to look at: one names a pool, one does not.
  await fetch(`${g.url}/api/pool/team-b-data`, { method: 'DELETE', headers: await bearer('alice') });
  await fetch(`${g.url}/api/osd/flags`, {
    method: 'PUT',
    headers: { ...(await bearer('alice')), 'content-type': 'application/json' },
    body: '{"flags":["noout"]}',
  });
});
after(async () => {
  await g?.close();
});

describe('the start page for each kind of credential', () => {
  test('a bearer token: who, the issuer and token expiry, the viewer for auditors, nothing to sign out of', async () => {
    const page = await get('/gateway', { ...HTML, ...(await bearer('dave')) });
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
    assert.match(page.text, /a bearer token from <code>http:\/\/127\.0\.0\.1:\d+<\/code>/);
    assert.match(page.text, /Token expires/);
    assert.match(page.text, /href="\/gateway\/audit"/);
    assert.ok(!page.text.includes('/gateway/logout'), 'no sign-out for a token the client holds');
  });

  test('an API key: its name, who created it, when it expires, and the rules of its groups', async () => {
    const created = await fetch(`${g.url}/gateway/v1/apikeys`, {
      method: 'POST',
      headers: { ...(await bearer('erin')), 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'audit-export-job', groups: ['auditors'], expires: '30d' }),
    });
    assert.equal(created.status, 201);
    const { key } = (await created.json()) as { key: string };
    const page = await get('/gateway', { ...HTML, authorization: `Bearer ${key}` });
    assert.equal(page.status, 200);
    assert.match(page.text, /the API key <code>audit-export-job<\/code>, created by <code>http:\/\/127\.0\.0\.1:\d+#erin<\/code>/);
    assert.match(page.text, /Key expires/);
    assert.match(page.text, /Auditors read the audit log/);
    const viewer = await get('/gateway/audit', { ...HTML, authorization: `Bearer ${key}` });
    assert.equal(viewer.status, 200, 'an API key of the auditors group reads the viewer');
  });
});

describe('browsers get pages, API clients keep JSON', () => {
  test('no credential: the sign-in page for a browser, a 401 JSON with its challenge for a client', async () => {
    const page = await get('/gateway', HTML);
    assert.equal(page.status, 401);
    assert.match(page.headers.get('www-authenticate') ?? '', /^Bearer/);
    assert.match(page.text, /Sign in with/);
    assert.match(page.text, /href="\/gateway\/login\?rd=%2Fgateway"/);
    const api = await get('/gateway', { accept: 'application/json' });
    assert.equal(api.status, 401);
    assert.equal(((await JSON.parse(api.text)) as { code: string }).code, 'unauthenticated');
    // The viewer sends a signed-out browser to the login, as every gateway page does.
    const viewer = await get('/gateway/audit', HTML);
    assert.equal(viewer.status, 302);
    assert.equal(viewer.headers.get('location'), '/gateway/login?rd=%2Fgateway%2Faudit');
  });

  test("a refusal is a page for a browser and Ceph's JSON for a client, with the same status and code", async () => {
    const alice = await bearer('alice');
    const page = await get('/gateway/audit/summary', { ...HTML, ...alice });
    assert.equal(page.status, 403);
    assert.match(page.text, /<code>policy_denied<\/code>/);
    const api = await get('/gateway/audit/summary', { accept: 'application/json', ...alice });
    assert.equal(api.status, 403);
    const body = JSON.parse(api.text) as Record<string, unknown>;
    assert.deepEqual([body.status, body.code], ['403 Forbidden', 'policy_denied']);
    assert.match(String(body.request_id), /^[0-9a-f-]{36}$/);
  });

  test('bad filters answer 400 with the form and what is wrong; an unknown record is a 404 page', async () => {
    const dave = await bearer('dave');
    const bad = await get('/gateway/audit?status=abc&from=yesterday&pool=%3Cb%3E', { ...HTML, ...dave });
    assert.equal(bad.status, 400);
    assert.match(bad.text, /an HTTP status, 100 to 599/);
    assert.match(bad.text, /value="&lt;b&gt;"/, 'the typed value comes back, escaped');
    assert.ok(!bad.text.includes('<tbody>'), 'no records for a filter that does not parse');
    const missing = await get('/gateway/audit/record/01a22a46-473b-7548-b623-f34c89f172b1', { ...HTML, ...dave });
    assert.equal(missing.status, 404);
    assert.match(missing.text, /not_found/);
    const garbage = await get('/gateway/audit/record/not-a-uuid', { accept: 'application/json', ...dave });
    assert.equal(garbage.status, 404);
  });

  test('two credentials at once are refused with a page, not guessed', async () => {
    const page = await get('/gateway', { ...HTML, ...(await bearer('dave')), cookie: 'cephgate_session=abc' });
    assert.equal(page.status, 400);
    assert.match(page.text, /multiple_credentials/);
  });
});

describe('the chain page over HTTP', () => {
  test('a bearer client starts a verification without a CSRF token (nothing ambient to forge); a big form is refused', async () => {
    const dave = await bearer('dave');
    const started = await fetch(`${g.url}/gateway/audit/verify`, { method: 'POST', headers: dave, redirect: 'manual' });
    assert.equal(started.status, 303);
    assert.equal(started.headers.get('location'), '/gateway/audit/verify');
    let page = '';
    for (let k = 0; k < 50 && !/intact|broken/.test(page); k++) {
      await new Promise((r) => setTimeout(r, 200));
      page = (await get('/gateway/audit/verify', { ...HTML, ...dave })).text;
    }
    assert.match(page, /intact/);
    assert.ok(!page.includes('name="csrf_token"'), 'no session, no token in the form');
    const big = await fetch(`${g.url}/gateway/audit/verify`, {
      method: 'POST',
      headers: { ...dave, 'content-type': 'application/x-www-form-urlencoded' },
      body: `csrf_token=${'x'.repeat(10_000)}`,
    });
    assert.equal(big.status, 413);
  });

  test('the summary per pool lists the pools named by changes and denials', async () => {
    const page = await get('/gateway/audit/summary?by=pool', { ...HTML, ...(await bearer('dave')) });
    assert.equal(page.status, 200);
    assert.match(page.text, /<th>Pool<\/th>/);
    assert.match(page.text, /<td>team-b-data/);
  });
});
