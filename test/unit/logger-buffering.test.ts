// The buffered log destination (logging.buffer_bytes / flush_interval_ms): lines wait for a batch,
// are written at least once per interval, and nothing buffered is lost when the process exits.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { createLogger, logDestination } from '../../src/telemetry/logger.ts';

const dir = mkdtempSync(join(tmpdir(), 'cephgate-log-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const lines = (file: string): string[] => {
  try {
    return readFileSync(file, 'utf8').split('\n').filter(Boolean);
  } catch {
    return [];
  }
};

test('a buffered line is not written at once, and is written within the flush interval', async () => {
  const file = join(dir, 'interval.log');
  const opts = { buffer_bytes: 4096, flush_interval_ms: 100 };
  const log = createLogger({ level: 'info', format: 'json', ...opts }, logDestination(opts, file));
  log.info({ n: 1 }, 'buffered');
  assert.equal(lines(file).length, 0, 'still in the buffer');
  await new Promise((r) => setTimeout(r, 400));
  assert.equal(lines(file).length, 1, 'flushed by the interval');
  assert.equal(JSON.parse(lines(file)[0] as string).msg, 'buffered');
});

test('a full buffer is written without waiting for the interval', () => {
  const file = join(dir, 'full.log');
  const opts = { buffer_bytes: 1024, flush_interval_ms: 60_000 };
  const log = createLogger({ level: 'info', format: 'json', ...opts }, logDestination(opts, file));
  for (let i = 0; i < 40; i++) log.info({ i, pad: 'x'.repeat(40) }, 'line');
  const written = lines(file).length;
  assert.ok(written > 0 && written < 40, `some lines written once the buffer filled (${written})`);
});

test('buffer_bytes 0 writes every line at once', () => {
  const file = join(dir, 'unbuffered.log');
  const opts = { buffer_bytes: 0 };
  const log = createLogger({ level: 'info', format: 'json', ...opts }, logDestination(opts, file));
  log.info('now');
  assert.equal(lines(file).length, 1);
});

test('lines still buffered when the process exits are written', () => {
  const file = join(dir, 'exit.log');
  const script = `
    import { createLogger, logDestination } from ${JSON.stringify(new URL('../../src/telemetry/logger.ts', import.meta.url).pathname)};
    const opts = { buffer_bytes: 4096, flush_interval_ms: 60000 };
    const log = createLogger({ level: 'info', format: 'json', ...opts }, logDestination(opts, ${JSON.stringify(file)}));
    log.info('last words');
    process.exit(3);
  `;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.equal(r.status, 3, r.stderr);
  assert.deepEqual(
    lines(file).map((l) => JSON.parse(l).msg),
    ['last words'],
  );
});
