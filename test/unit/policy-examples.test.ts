// The shipped example policies load against the real Reef, Pacific and Tentacle catalogues and pass
// their own test cases (policies/tests/*.yaml), as `cephgate policy test` runs them in CI.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { policyCheck, policyExplain, policyTest } from '../../src/policy/cli-commands.ts';

const dir = new URL('../../policies', import.meta.url).pathname;
const accounts = { default: ['reader', 'operator', 'admin'] };

describe('example policies', () => {
  for (const release of ['reef', 'pacific', 'tentacle'] as const) {
    it(`pass their tests against ${release}`, () => {
      const lines: string[] = [];
      const code = policyTest({ dir, releases: [release], accounts, out: (l) => lines.push(l), err: (l) => lines.push(l) });
      assert.equal(code, 0, lines.join('\n'));
      assert.match(lines.at(-1) ?? '', /^\d+ passed, 0 failed$/);
    });
  }
  it('check rejects an account that is not configured', () => {
    const lines: string[] = [];
    assert.equal(policyCheck({ dir, accounts: { default: ['reader'] }, err: (l) => lines.push(l) }), 1);
    assert.ok(
      lines.some((l) => /^team-a\.yaml:\d+: rule team-a-own-pools: unknown Ceph account operator/.test(l)),
      lines.join('\n'),
    );
  });
  it('explain prints each rule and the decision, exit 1 on deny', () => {
    const lines: string[] = [];
    const code = policyExplain({
      dir,
      accounts,
      principal: { id: 'alice', groups: ['team-a'] },
      method: 'POST',
      path: '/api/block/image',
      body: Buffer.from('{"pool_name":"team-a-x","data_pool":"team-b-x"}'),
      out: (l) => lines.push(l),
    });
    assert.equal(code, 1);
    assert.ok(lines.some((l) => l.startsWith('no    allow team-a-own-images [team-a.yaml:')));
    assert.equal(lines.at(-1), '=> deny (no rule allows this request)');
  });
});
