// The audit log end to end, against the real Ceph and real Postgres: a pool created and deleted
// through the gateway appears in the audit API with principal, decision, upstream status and
// redacted body; a user's password never reaches the store; with Postgres stopped mid-test,
// mutations are refused (503) and Ceph shows no change; with Postgres back they succeed again.

import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { cephCli } from '../support/ceph-cli.ts';
import { type FullGateway, startFullGateway } from '../support/full-gateway.ts';
import { type PrivatePostgres, privatePostgresMissing, startPrivatePostgres } from '../support/private-postgres.ts';
import { need, releaseSuite, testEnv } from '../support/requirements.ts';

// A release suite: test/run.ts runs this file against Pacific and against Reef.
releaseSuite();

// The fields of /gateway/v1/audit items these tests read.
type AuditItem = {
  method: string;
  cluster: string;
  outcome: string;
  upstream_status: number;
  principal: { id: string; auth_method: string; groups: string[] };
  decision: { effect: string; rule_id: string | null };
  body: { pool?: string; username?: string; password?: string } | null;
};

const suffix = Math.random().toString(36).slice(2, 8);
const pools = async () => (await cephCli(testEnv.cephConf as string, ['osd', 'pool', 'ls'])).split('\n');

async function call(gw: FullGateway, user: string, method: string, path: string, body?: unknown) {
  const res = await fetch(`${gw.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${await gw.token(user)}`,
      accept: 'application/json',
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : null };
}

/** Waits for a 202 task of Ceph to finish (pool create/delete may answer 202 after 5 s). */
async function settled(gw: FullGateway, status: number) {
  if (status !== 202) return;
  for (let i = 0; i < 60; i++) {
    const tasks = await call(gw, 'erin', 'GET', '/api/task');
    if (
      Array.isArray((tasks.body as { executing_tasks?: unknown[] } | null)?.executing_tasks) &&
      (tasks.body as { executing_tasks: unknown[] }).executing_tasks.length === 0
    )
      return;
    await new Promise((r) => setTimeout(r, 500));
  }
}

describe('audit records of real mutations in real Postgres', () => {
  let gw: FullGateway | null = null;
  after(async () => {
    await gw?.close();
  });

  test('a pool created and deleted, and a user created, are recorded with principal, decision, status and redacted bodies', async (t) => {
    if (!need(t, 'ceph', 'postgres')) return;
    gw = await startFullGateway({ store: 'postgres' });
    const pool = `team-a-audit-${suffix}`;
    const created = await call(gw, 'alice', 'POST', '/api/pool', { pool, pg_num: 8, pool_type: 'replicated' });
    assert.ok([201, 202].includes(created.status), JSON.stringify(created.body));
    await settled(gw, created.status);
    const deleted = await call(gw, 'alice', 'DELETE', `/api/pool/${pool}`);
    assert.ok([202, 204].includes(deleted.status), JSON.stringify(deleted.body));
    await settled(gw, deleted.status);

    const page = await call(gw, 'dave', 'GET', `/gateway/v1/audit?pool=${pool}&limit=20`);
    assert.equal(page.status, 200);
    const items = (page.body as { items: AuditItem[] }).items;
    const create = items.find((r) => r.method === 'POST');
    const del = items.find((r) => r.method === 'DELETE');
    assert.ok(create && del, 'both mutations are in the audit log');
    for (const r of [create, del]) {
      assert.ok(String(r.principal.id).endsWith('#alice'));
      assert.equal(r.principal.auth_method, 'oidc_bearer');
      assert.deepEqual(r.principal.groups, ['team-a']);
      assert.equal(r.decision.effect, 'allow');
      assert.ok(r.decision.rule_id);
      assert.equal(r.cluster, 'main');
      assert.equal(r.outcome, 'complete');
    }
    assert.equal(create.body?.pool, pool);
    assert.equal(create.upstream_status, created.status);
    assert.equal(del.upstream_status, deleted.status);

    const secret = `Pw-${suffix}-never-stored!`;
    const user = await call(gw, 'erin', 'POST', '/api/user', {
      username: `audit-u-${suffix}`,
      password: secret,
      roles: ['read-only'],
      enabled: true,
      pwdUpdateRequired: false,
    });
    assert.equal(user.status, 201, JSON.stringify(user.body));
    const notAuditor = await call(gw, 'carol', 'GET', `/gateway/v1/audit?operation=User.create&limit=5`);
    assert.equal(notAuditor.status, 403, 'operators may not read the audit log');
    const rows = await call(gw, 'dave', 'GET', `/gateway/v1/audit?operation=User.create&limit=5`);
    const rec = (rows.body as { items: AuditItem[] }).items.find((r) => r.body?.username === `audit-u-${suffix}`);
    assert.ok(rec, 'user creation audited');
    assert.notEqual(rec.body?.password, secret);
    const exported = await fetch(`${gw.url}/gateway/v1/audit/export?format=ndjson`, { headers: { authorization: `Bearer ${await gw.token('dave')}` } });
    assert.equal((await exported.text()).includes(secret), false, 'the password is nowhere in the store');
    await call(gw, 'erin', 'DELETE', `/api/user/audit-u-${suffix}`);
  });
});

describe('Postgres stopped mid-test', () => {
  let pg: PrivatePostgres | null = null;
  let gw: FullGateway | null = null;
  after(async () => {
    await gw?.close().catch(() => undefined);
    await pg?.destroy();
  });

  test('mutations get 503 and change nothing in Ceph; with Postgres back they succeed without a restart', async (t) => {
    if (!need(t, 'ceph')) return;
    const missing = privatePostgresMissing();
    if (missing !== null) {
      if (process.env.CI === 'true') throw new Error(missing);
      t.skip(missing);
      return;
    }
    pg = await startPrivatePostgres();
    const url = pg.url;
    gw = await startFullGateway({ config: (base) => ({ ...base, audit: { ...(base.audit as object), database_url: url, intent_timeout_ms: 1500 } }) });
    const before = `team-a-pgup-${suffix}`;
    const ok1 = await call(gw, 'alice', 'POST', '/api/pool', { pool: before, pg_num: 8, pool_type: 'replicated' });
    assert.ok([201, 202].includes(ok1.status));

    await pg.stop();
    const during = `team-a-pgdown-${suffix}`;
    const refused = await call(gw, 'alice', 'POST', '/api/pool', { pool: during, pg_num: 8, pool_type: 'replicated' });
    assert.equal(refused.status, 503);
    assert.equal(refused.body?.code, 'audit_unavailable');
    const ready = await fetch(`${gw.adminUrl}/readyz`);
    assert.equal(ready.status, 503, 'not ready while the audit store is down');
    assert.equal((await pools()).includes(during), false, 'nothing reached Ceph during the outage');
    // A denial during the outage (alice may not touch team-b pools): refused as always.
    const denied = await call(gw, 'alice', 'POST', '/api/pool', { pool: `team-b-pgdown-${suffix}`, pg_num: 8, pool_type: 'replicated' });
    assert.equal(denied.status, 403);
    // The audit API cannot read either: 503 with Retry-After, like the mutations (not a 500).
    const reading = await fetch(`${gw.url}/gateway/v1/audit?limit=1`, { headers: { authorization: `Bearer ${await gw.token('dave')}` } });
    assert.equal(reading.status, 503);
    assert.equal(((await reading.json()) as { code: string }).code, 'audit_unavailable');
    assert.ok(reading.headers.get('retry-after'));

    await pg.start();
    const after = `team-a-pgback-${suffix}`;
    let status = 0;
    for (let i = 0; i < 20 && ![201, 202].includes(status); i++) {
      status = (await call(gw, 'alice', 'POST', '/api/pool', { pool: after, pg_num: 8, pool_type: 'replicated' })).status;
      if (![201, 202].includes(status)) await new Promise((r) => setTimeout(r, 500));
    }
    assert.ok([201, 202].includes(status), `mutations succeed again (last status ${status})`);
    assert.ok((await pools()).includes(after));

    // Nothing lost: the refusals of the outage (the 503 and the denial) were spooled locally and are
    // now in the audit log, chained, with what was answered.
    const wanted = new Map([
      [String(refused.body?.request_id), 503],
      [String(denied.body?.request_id), 403],
    ]);
    let found: { request_id: string; status: number; outcome: string; error_code: string | null }[] = [];
    for (let i = 0; i < 40 && found.length < wanted.size; i++) {
      if (i > 0) await new Promise((r) => setTimeout(r, 500));
      const page = await fetch(
        `${gw.url}/gateway/v1/audit?limit=1000&principal=${encodeURIComponent(String((await gw.gateway.deps.authenticate({ method: 'GET', headers: new Map([['authorization', [`Bearer ${await gw.token('alice')}`]]]), target: { raw: '/', rawPath: '/', segments: [], rawQuery: '', query: {}, cluster: null }, clientIp: '127.0.0.1' })).id))}`,
        { headers: { authorization: `Bearer ${await gw.token('dave')}` } },
      );
      const items = ((await page.json()) as { items: { request_id: string; status: number; outcome: string; error_code: string | null }[] }).items;
      found = items.filter((r) => wanted.has(r.request_id));
    }
    assert.equal(found.length, 2, 'both refusals of the outage are in the audit log');
    for (const r of found) {
      assert.equal(r.status, wanted.get(r.request_id));
      assert.equal(r.outcome, 'refused');
    }
    assert.equal(found.find((r) => r.status === 503)?.error_code, 'audit_unavailable');
  });
});
