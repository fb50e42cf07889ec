// The requests docs/policies.md shows as examples are requests the gateway knows (issue 18, item 8:
// it used `GET /api/health`, which `cephgate policy explain` says matches no operation). Each
// `METHOD /path` in backticks is explained against the example policies as the CLI does.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { policyExplain } from '../../src/policy/cli-commands.ts';

const EXAMPLE = /`(GET|HEAD|POST|PUT|PATCH|DELETE) (\/[^`\s]*)`/g;

test('every request docs/policies.md names matches an operation of the catalogue', () => {
  const doc = readFileSync('docs/policies.md', 'utf8');
  const examples = [...doc.matchAll(EXAMPLE)].map((m) => ({ method: m[1] as string, path: m[2] as string }));
  assert.ok(examples.length >= 3, 'the examples were found');
  for (const { method, path } of examples) {
    const errors: string[] = [];
    const code = policyExplain({
      dir: 'policies',
      principal: { id: 'docs', groups: ['readers'] },
      // HEAD is decided as its GET (pipeline/handle.ts), as `cephgate policy explain` does.
      method: (method === 'HEAD' ? 'GET' : method) as 'GET',
      path,
      out: () => undefined,
      err: (line) => errors.push(line),
    });
    assert.notEqual(code, 2, `${method} ${path}: ${errors.join('; ')}`);
  }
});
