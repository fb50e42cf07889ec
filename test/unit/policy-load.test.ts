// Load-time validation (every error with file, line and rule, all at once), the version hash, and
// the manager's hot reload keeping the last good set when an edit is broken.

import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { buildCatalogue, loadCatalogue } from '../../src/ceph/catalogue.ts';
import { compilePolicySources } from '../../src/policy/compile.ts';
import { loadPolicyDir } from '../../src/policy/files.ts';
import { PolicyManager } from '../../src/policy/manager.ts';
import type { PolicyLoadIssue } from '../../src/policy/model.ts';

const opts = { catalogues: [loadCatalogue('reef')], accounts: { default: ['reader', 'operator'] }, maxInspectBytes: 1024 };

function issues(text: string, file = 'p.yaml'): PolicyLoadIssue[] {
  const r = compilePolicySources([{ file, text }], opts);
  assert.equal(r.ok, false, 'expected load errors');
  return r.ok ? [] : [...r.issues];
}

const ok = `rules:
  - id: a
    effect: allow
    subjects: { groups: [t] }
    routes: [Pool.list]
`;

describe('validation errors name file, line and rule', () => {
  const cases: [string, string, number, string | null, RegExp][] = [
    ['unknown template', 'routes: [/api/nope]', 5, 'x', /unknown route template \/api\/nope/],
    ['unknown operation', 'routes: [Pool.nope]', 5, 'x', /unknown operation Pool\.nope/],
    ['unknown scope', 'routes: ["nope:read"]', 5, 'x', /unknown scope:permission/],
    ['bad permission', 'routes: ["pool:write"]', 5, 'x', /bad scope:permission/],
    ['unknown path param', 'routes: [Pool.set]\n    when: { path.pool: x }', 6, 'x', /unknown path parameter \{pool\}/],
    ['path param not on every route', 'routes: [Pool.set, Pool.list]\n    when: { path.pool_name: x }', 6, 'x', /not a parameter of every route/],
    ['path condition on *', 'routes: ["*"]\n    when: { path.pool_name: x }', 6, 'x', /explicit routes/],
    ['spec part on a plain param', 'routes: [Pool.set]\n    when: { path.pool_name.pool: x }', 6, 'x', /only image_spec/],
    ['unknown query param', 'routes: [Pool.list]\n    when: { query.nope: x }', 6, 'x', /unknown query parameter nope/],
    ['body on a GET route', 'routes: [Pool.list]\n    when: { body.pool: x }', 6, 'x', /takes a body/],
    ['bad glob', 'routes: [Pool.create]\n    when: { pools: { glob: "a[0-9]" } }', 6, 'x', /bad glob/],
    ['unknown field', 'routes: [Pool.create]\n    when: { header.x: x }', 6, 'x', /unknown field header\.x/],
    ['unknown operator', 'routes: [Pool.create]\n    when: { pools: { like: x } }', 6, 'x', /like/],
    ['type error', 'routes: [Pool.create]\n    when: { body.pg_num: { min: lots } }', 6, 'x', /min/],
    ['unknown account', 'routes: [Pool.list]\n    ceph_account: root', 6, 'x', /unknown Ceph account root/],
    ['unknown cluster', 'routes: [Pool.list]\n    clusters: [mars]', 6, 'x', /unknown cluster mars/],
    ['methods match nothing', 'routes: [Pool.list]\n    methods: [DELETE]', 6, 'x', /match none of the routes/],
  ];
  for (const [name, tail, line, ruleId, msg] of cases) {
    it(name, () => {
      const all = issues(`rules:\n  - id: x\n    effect: allow\n    subjects: { groups: [t] }\n    ${tail}\n`);
      assert.ok(all.length >= 1 && all.length <= 2, JSON.stringify(all));
      assert.deepEqual([all[0]?.file, all[0]?.line, all[0]?.ruleId], ['p.yaml', line, ruleId]);
      assert.match(all[0]?.message ?? '', msg);
    });
  }
  it('duplicate ids across files, and every problem at once', () => {
    const r = compilePolicySources(
      [
        { file: 'a.yaml', text: ok },
        { file: 'b.yaml', text: `${ok}  - id: b\n    effect: maybe\n    subjects: '*'\n    routes: [Pool.list]\n` },
      ],
      opts,
    );
    assert.equal(r.ok, false);
    if (r.ok) return;
    assert.deepEqual(new Set(r.issues.map((i) => `${i.file}:${i.line}:${i.ruleId}`)), new Set(['b.yaml:7:b', 'b.yaml:2:a']));
    assert.match(r.issues.find((i) => i.ruleId === 'a')?.message ?? '', /duplicate rule id \(first defined at a\.yaml:2\)/);
  });
  it('YAML syntax errors and duplicate YAML keys have lines', () => {
    const all = issues('rules:\n  - id: x\n    id: y\n');
    assert.equal(all[0]?.line, 3);
  });
  it('a deny rule cannot name an account', () => {
    assert.match(
      issues(`rules:\n  - id: x\n    effect: deny\n    subjects: '*'\n    routes: [Pool.list]\n    ceph_account: reader\n`)[0]?.message ?? '',
      /deny rule cannot name/,
    );
  });
  it('checks against a small fixture catalogue too', () => {
    const op = { ...(loadCatalogue('reef').byId('Pool.list')[0] as never as object) } as never;
    const r = compilePolicySources([{ file: 'f.yaml', text: ok.replace('Pool.list', 'Pool.create') }], { ...opts, catalogues: [buildCatalogue('reef', [op])] });
    assert.equal(r.ok, false);
  });
});

describe('version', () => {
  it('ignores comments and formatting, changes with content', () => {
    const v = (t: string) => {
      const r = compilePolicySources([{ file: 'p.yaml', text: t }], opts);
      assert.ok(r.ok);
      return r.engine.version;
    };
    assert.equal(v(ok), v(`# a comment\n${ok.replace('{ groups: [t] }', '\n      groups: [t]')}`));
    assert.notEqual(v(ok), v(ok.replace('[t]', '[u]')));
  });
});

describe('policy directory', () => {
  it('a ConfigMap-style directory (every key a symlink into ..data) loads its rules', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cephgate-cm-'));
    try {
      // What kubelet writes for a ConfigMap volume: ..<timestamp>/file, ..data -> ..<timestamp>, file -> ..data/file.
      mkdirSync(join(dir, '..2026_11_30'));
      writeFileSync(join(dir, '..2026_11_30', 'team.yaml'), ok);
      symlinkSync('..2026_11_30', join(dir, '..data'));
      symlinkSync(join('..data', 'team.yaml'), join(dir, 'team.yaml'));
      const loaded = loadPolicyDir(dir, opts);
      assert.ok(loaded.ok, 'loads');
      const plain = compilePolicySources([{ file: 'team.yaml', text: ok }], opts);
      assert.ok(plain.ok);
      assert.equal(loaded.engine.version, plain.engine.version, 'the same rules as the plain file');
      assert.equal(loaded.engine.rules.length, 1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('PolicyManager', () => {
  it('reload swaps, a broken edit keeps the last good set and reports', () => {
    const dir = mkdtempSync(join(tmpdir(), 'policy-'));
    try {
      writeFileSync(join(dir, 'p.yaml'), ok);
      const errors: PolicyLoadIssue[][] = [];
      const m = new PolicyManager({ ...opts, dir, watch: false, onError: (i) => errors.push([...i]) });
      const v1 = m.current.version;
      writeFileSync(join(dir, 'p.yaml'), ok.replace('Pool.list', 'Pool.nope'));
      assert.equal(m.reload(), false);
      assert.equal(m.current.version, v1);
      assert.equal(errors[0]?.[0]?.line, 5);
      writeFileSync(join(dir, 'p.yaml'), ok.replace('[t]', '[u]'));
      assert.equal(m.reload(), true);
      assert.notEqual(m.current.version, v1);
      m.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it('refuses to start on a broken set', () => {
    const dir = mkdtempSync(join(tmpdir(), 'policy-'));
    try {
      writeFileSync(join(dir, 'p.yaml'), 'rules: [');
      assert.throws(() => new PolicyManager({ ...opts, dir, watch: false }), /policy set rejected/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it('reloads on file change (debounced watch)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'policy-'));
    try {
      writeFileSync(join(dir, 'p.yaml'), ok);
      let reloaded = 0;
      const m = new PolicyManager({ ...opts, dir, watch: true, debounceMs: 20, onReload: () => reloaded++ });
      const v1 = m.current.version;
      writeFileSync(join(dir, 'p.yaml'), ok.replace('[t]', '[w]'));
      for (let i = 0; i < 50 && m.current.version === v1; i++) await new Promise((r) => setTimeout(r, 20));
      assert.notEqual(m.current.version, v1);
      assert.equal(reloaded, 1);
      m.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
