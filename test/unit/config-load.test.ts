// Configuration: every problem reported at once with its key path; environment overrides;
// secrets referenced, never printed.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config/load.ts';
import { resolveSecret } from '../../src/config/secrets.ts';

const dir = mkdtempSync(join(tmpdir(), 'cephgate-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));
function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

test('built-in defaults are valid and safe', () => {
  const { config, source } = loadConfig({ env: {}, path: undefined });
  assert.equal(source === 'built-in defaults' || source === 'cephgate.yaml', true);
  assert.equal(config.admin.listen.host, '127.0.0.1');
  assert.equal(config.limits.max_body_bytes, 1048576);
  assert.deepEqual(config.server.trusted_proxies, []);
});

test('a file with three mistakes yields one error naming all three', () => {
  const p = file(
    'three.yaml',
    ['server:', '  listen:', '    port: "eighty"', 'limits:', '  max_body_bytes: -5', 'logging:', '  colour: always', ''].join('\n'),
  );
  assert.throws(
    () => loadConfig({ path: p, env: {} }),
    (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.equal(e.problems.length, 3, e.message);
      assert.match(e.message, /server\.listen\.port/);
      assert.match(e.message, /limits\.max_body_bytes/);
      assert.match(e.message, /logging/);
      assert.match(e.message, /colour/);
      return true;
    },
  );
});

test('cross-field mistakes are reported with the rest', () => {
  const p = file(
    'cross.yaml',
    [
      'ceph:',
      '  default_cluster: nowhere',
      '  clusters:',
      '    - name: a',
      '      dashboards: ["http://127.0.0.1:1"]',
      '      default_account: ghost',
      '',
    ].join('\n'),
  );
  assert.throws(
    () => loadConfig({ path: p, env: {} }),
    (e: unknown) => e instanceof ConfigError && e.problems.length === 2,
  );
});

test('environment overrides set nested keys with their types', () => {
  const { config } = loadConfig({ path: file('empty.yaml', ''), env: { CEPHGATE__SERVER__LISTEN__PORT: '9443', CEPHGATE__AUDIT__RECORD_READS: 'true' } });
  assert.equal(config.server.listen.port, 9443);
  assert.equal(config.audit.record_reads, true);
});

test('DATABASE_URL selects the Postgres audit store by reference, not by value', () => {
  const { config } = loadConfig({ path: file('empty2.yaml', ''), env: { DATABASE_URL: 'postgres://u:secret@db/x' } });
  assert.equal(config.audit.database_url_env, 'DATABASE_URL');
  assert.equal(JSON.stringify(config).includes('secret@'), false);
});

test('unreadable and non-YAML files are one-line problems', () => {
  assert.throws(() => loadConfig({ path: join(dir, 'missing.yaml'), env: {} }), /cannot read the file \(ENOENT\)/);
  assert.throws(() => loadConfig({ path: file('bad.yaml', 'a: [unclosed'), env: {} }), /not valid YAML/);
});

test('a missing secret names its reference, never a value', () => {
  assert.throws(() => resolveSecret({ env: 'NOPE_PW' }, 'ceph.clusters.0.accounts.0.password', {}), /NOPE_PW is not set/);
  assert.equal(resolveSecret({ env: 'PW' }, 'x', { PW: 'hunter2' }), 'hunter2');
  assert.equal(resolveSecret({ file: file('pw', 'filepw\n') }, 'x', {}), 'filepw');
});
