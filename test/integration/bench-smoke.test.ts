// Keeps the benchmark harness from rotting: runs `bench/run.ts --smoke` (about a second per row) and checks
// the table has every baseline row and G with numbers > 0, and the paced audited-mutation rows. No timing targets here: those live in the bench table.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { APACHE_MISSING } from '../../bench/baselines/apache.ts';
import { NGINX } from '../../bench/baselines/nginx.ts';
import { BUDGET_US } from '../../bench/stage-budgets.ts';

interface BenchRow {
  scenario: string;
  target: string;
  rps: number | null;
  p50: number;
  p99: number;
  rssMb: number | null;
  cpuUs?: number | null;
  codes: string;
  note?: string;
  extra?: { categories?: Record<string, number> };
}

test('the bench harness runs and reports every baseline row and the gateway', { timeout: 300_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cephgate-bench-smoke-'));
  const out = join(dir, 'smoke.json');
  try {
    const code = await new Promise<number | null>((resolve) => {
      const p = spawn(process.execPath, ['--import', 'tsx', 'bench/run.ts', '--smoke', '--json', out], { stdio: ['ignore', 'ignore', 'inherit'] });
      p.once('exit', resolve);
    });
    assert.equal(code, 0, 'bench/run.ts --smoke exits 0');
    const report = JSON.parse(readFileSync(out, 'utf8')) as { rows: BenchRow[]; stages: Record<string, string> | null };
    // B2 and B3 run where nginx, and Apache httpd with mod_auth_openidc, are installed (.ci/run installs them).
    const expected = ['B0', 'B1', ...(NGINX === null ? [] : ['B2']), ...(APACHE_MISSING === null ? ['B3'] : []), 'G'];
    for (const target of expected) {
      const row = report.rows.find((r) => r.scenario === 'get' && r.target === target);
      assert.ok(row, `row get/${target} present`);
      assert.ok((row.rps ?? 0) > 0, `get/${target}: req/s > 0`);
      assert.ok(row.p99 >= row.p50 && row.p99 > 0, `get/${target}: latencies reported`);
      assert.ok((row.rssMb ?? 0) > 0, `get/${target}: RSS read`);
      assert.match(row.codes, /^200:\d+$/, `get/${target}: every answer 200 (${row.codes})`);
    }
    // B3 is measured only after it refused every bad token (bench/auth-probes.ts); its note lists them.
    if (APACHE_MISSING === null)
      assert.match(
        report.rows.find((r) => r.scenario === 'get' && r.target === 'B3')?.note ?? '',
        /^auth checked: valid 200, /,
        'get/B3: authentication checked',
      );
    // Every row says what a request cost the server's CPU (bench/targets.ts, from /proc).
    for (const target of ['B1', 'G'])
      assert.ok((report.rows.find((r) => r.scenario === 'get' && r.target === target)?.cpuUs ?? 0) > 0, `get/${target}: CPU per request`);
    // The cost rows: B1 and G profiled at the same load, with G's time found in the gateway's own code and in undici.
    for (const target of ['B1', 'G']) {
      const row = report.rows.find((r) => r.scenario === 'cost' && r.target === target);
      assert.ok(row, `row cost/${target} present`);
      assert.match(row.codes, /^200:\d+$/, `cost/${target}: every answer 200 (${row.codes})`);
      assert.ok((row.extra?.categories?.undici ?? 0) > 0, `cost/${target}: undici's share found in the profile`);
    }
    const gCost = report.rows.find((r) => r.scenario === 'cost' && r.target === 'G')?.extra?.categories ?? {};
    assert.ok((gCost['cephgate src/pipeline'] ?? 0) > 0, "cost/G: the pipeline's own time found in the profile");
    assert.equal(
      report.rows.find((r) => r.scenario === 'cost' && r.target === 'B1')?.extra?.categories?.['cephgate src/pipeline'],
      undefined,
      'cost/B1: no gateway code',
    );
    // The paced (open-loop) generator behind the audited-mutation latency row.
    const paced = report.rows.find((r) => r.scenario === 'mutation-rate' && r.target === 'G-noaudit');
    assert.ok(paced, 'row mutation-rate/G-noaudit present');
    assert.match(paced.codes, /^201:\d+$/, `mutation-rate/G-noaudit: every answer 201 (${paced.codes})`);
    assert.ok(paced.p99 >= paced.p50 && paced.p99 > 0, 'mutation-rate/G-noaudit: latencies reported');
    assert.ok(report.stages && Object.keys(report.stages).length > 0, 'G reports which stages were real');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the stage micro-benchmark measures every budgeted stage and the upstream call', { timeout: 300_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cephgate-stages-smoke-'));
  const out = join(dir, 'stages.json');
  try {
    const code = await new Promise<number | null>((resolve) => {
      const p = spawn(process.execPath, ['--import', 'tsx', 'bench/stages.ts', '--smoke', '--json', out], { stdio: ['ignore', 'ignore', 'inherit'] });
      p.once('exit', resolve);
    });
    assert.equal(code, 0, 'bench/stages.ts --smoke exits 0');
    const report = JSON.parse(readFileSync(out, 'utf8')) as { rows: { stage: string; median_ns: number; budget_ns: number | null }[] };
    for (const [stage, budgetUs] of Object.entries(BUDGET_US)) {
      const row = report.rows.find((r) => r.stage === stage);
      assert.ok(row, `stage ${stage} measured`);
      assert.ok(row.median_ns > 0, `${stage}: a cost was measured`);
      assert.equal(row.budget_ns, budgetUs * 1000, `${stage}: its budget is reported`);
    }
    assert.ok(
      report.rows.some((r) => /upstream/.test(r.stage) && r.median_ns > 0),
      'the real upstream call is measured too',
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
