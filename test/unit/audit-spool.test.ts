// The refusal spool (src/audit/spool.ts) on a real directory: records survive on disk until replayed,
// a full spool refuses instead of growing, a torn last line is skipped, files of ended processes (and
// of an earlier process with the same pid, as PID 1 in a container) are replayed, those of a live
// process are not, and a replay that fails keeps the file for the next one.

import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, test } from 'node:test';
import type { IntentDraft } from '../../src/audit/records.ts';
import { openRefusalSpool } from '../../src/audit/spool.ts';

const dirs: string[] = [];
const dir = () => {
  const d = mkdtempSync(join(tmpdir(), 'cephgate-spool-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function draft(n: number): IntentDraft {
  return {
    id: `0190c0de-0000-7000-8000-${String(n).padStart(12, '0')}`,
    requestId: `req-${n}`,
    receivedAt: new Date(1_700_000_000_000 + n),
    cluster: 'main',
    principalId: 'dev#alice',
    principalName: 'alice',
    principalEmail: null,
    principalGroups: ['team-a'],
    authMethod: 'oidc_bearer',
    apiKeyName: null,
    clientIp: '127.0.0.1',
    userAgent: null,
    method: 'POST',
    rawPath: '/api/pool',
    routeTemplate: '/api/pool',
    operation: 'Pool.create',
    pathParams: {},
    pools: ['team-b-x'],
    query: {},
    body: { pool: 'team-b-x' },
    decisionEffect: 'deny',
    decisionRuleId: null,
    decisionReason: 'no rule allows this request',
    policyVersion: 'v',
    cephAccount: null,
    decisionShadow: null,
    finalStatus: 403,
    errorCode: 'policy_denied',
  };
}

async function replayAll(spool: Awaited<ReturnType<typeof openRefusalSpool>>): Promise<IntentDraft[]> {
  const got: IntentDraft[] = [];
  await spool.replay(async (drafts) => void got.push(...drafts), 2);
  return got;
}

describe('refusal spool', () => {
  test('appended records are on disk before append resolves, and come back equal (dates included), then are gone', async () => {
    const d = dir();
    const spool = await openRefusalSpool({ dir: d, maxBytes: 1 << 20 });
    await Promise.all([1, 2, 3].map((n) => spool.append(draft(n))));
    const onDisk = readdirSync(d)
      .map((f) => readFileSync(join(d, f), 'utf8'))
      .join('');
    assert.equal(onDisk.trim().split('\n').length, 3);
    assert.equal(await spool.pending(), true);
    const back = await replayAll(spool);
    assert.deepEqual(back, [draft(1), draft(2), draft(3)]);
    assert.ok(back[0]?.receivedAt instanceof Date);
    assert.equal(await spool.pending(), false);
    assert.deepEqual(readdirSync(d), []);
    assert.deepEqual(spool.stats(), { bytes: 0, spooled: 3, replayed: 3, dropped: 0 });
    await spool.close();
  });

  test('a full spool refuses the record instead of growing', async () => {
    const spool = await openRefusalSpool({ dir: dir(), maxBytes: JSON.stringify(draft(1)).length * 2 + 2 });
    await spool.append(draft(1));
    await spool.append(draft(2));
    await assert.rejects(spool.append(draft(3)), /full/);
    assert.equal(spool.stats().dropped, 1);
    await spool.close();
  });

  test('a replay that fails keeps the records for the next one', async () => {
    const spool = await openRefusalSpool({ dir: dir(), maxBytes: 1 << 20 });
    await spool.append(draft(1));
    await assert.rejects(spool.replay(async () => Promise.reject(new Error('store down again'))));
    assert.deepEqual(await replayAll(spool), [draft(1)]);
    await spool.close();
  });

  test('files of an ended process and of an earlier process with our pid are replayed (torn last line skipped); a live process keeps its file', async () => {
    const d = dir();
    const line = (n: number) => `${JSON.stringify(draft(n))}\n`;
    // pid 2^22+7 does not exist; pid 1 with another start time is an earlier incarnation of "us" (pid 1).
    writeFileSync(join(d, 'refusals-4194311-100.ndjson'), line(1) + line(2) + '{"id":"torn');
    writeFileSync(join(d, 'refusals-1-50.ndjson'), line(3));
    writeFileSync(join(d, `refusals-${process.pid}-10.ndjson`), line(4)); // the test process itself: alive
    const spool = await openRefusalSpool({ dir: d, maxBytes: 1 << 20, pid: 1 });
    const ids = (await replayAll(spool)).map((x) => x.requestId);
    assert.deepEqual(ids, ['req-3', 'req-1', 'req-2']);
    assert.deepEqual(readdirSync(d), [`refusals-${process.pid}-10.ndjson`]);
    await spool.close();
  });
});
