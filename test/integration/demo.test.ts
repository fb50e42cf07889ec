// `npm run demo -- --non-interactive` as a newcomer's first command: it brings up its own real Ceph,
// the dev IdP and the gateway, runs every curl line it prints, and each must give its printed status.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { need } from '../support/requirements.ts';

function runDemo(dir: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/demo.ts', '--non-interactive', '--dir', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

test("the demo's printed curl lines give their printed results", { timeout: 600_000 }, async (t) => {
  // The demo starts its own throwaway Ceph; the guard only checks that Ceph can run here.
  if (!need(t, 'ceph')) return;
  const dir = mkdtempSync(join(tmpdir(), 'cephgate-demo-test-'));
  try {
    const { code, stdout, stderr } = await runDemo(dir);
    const context = `\n--- stdout ---\n${stdout}\n--- stderr ---\n${stderr.slice(-4000)}`;
    assert.equal(code, 0, `demo exited ${code}${context}`);

    // What a newcomer is told: a token per demo user, curl lines, the admin URLs, the audit log.
    for (const user of ['ALICE', 'BOB', 'CAROL', 'DAVE', 'ERIN']) assert.match(stdout, new RegExp(`^export ${user}=ey[\\w-]+\\.[\\w-]+\\.[\\w-]+ `, 'm'));
    assert.match(stdout, /\/readyz/);
    assert.match(stdout, /\/metrics/);
    assert.match(stdout, /\/gateway\/v1\/audit/);
    assert.ok(stdout.includes(join(dir, 'audit')), 'names the audit store');

    // Every printed curl line has a summary row, and every row is ok.
    const printed = stdout.split('\n').filter((l) => l.startsWith('curl -sg '));
    const rows = stdout.split('\n').filter((l) => /^(ok {2}|FAIL) /.test(l));
    assert.ok(printed.length >= 15, `expected the full list of lines, got ${printed.length}`);
    assert.equal(rows.length, printed.length, context);
    assert.deepEqual(
      rows.filter((r) => !r.startsWith('ok')),
      [],
      context,
    );
    // Denials are part of the demo, not only successes.
    assert.ok(rows.some((r) => /expected 403, got 403/.test(r)));
    assert.ok(rows.some((r) => /expected 401, got 401/.test(r)));
    assert.match(stdout, /demo: all \d+ lines gave their printed status/);

    // The config it wrote is left for `cephgate audit verify`; its Ceph is gone.
    assert.ok(existsSync(join(dir, 'cephgate.yaml')));
    assert.doesNotMatch(stderr, /stopping .* failed/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
