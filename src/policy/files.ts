// Reads the policy files of a directory: every `*.yaml`/`*.yml` directly inside it, in name order
// (the order decides which allow rule wins). The `tests/` subdirectory holds policy tests, not rules.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { type CompileResult, compilePolicySources } from './compile.ts';
import type { PolicyLoadOptions } from './model.ts';
import type { PolicySource } from './parse.ts';

export const POLICY_FILE = /\.ya?ml$/;

export function readPolicyDir(dir: string): PolicySource[] {
  return (
    readdirSync(dir)
      // statSync follows links: a Kubernetes ConfigMap volume presents every key as a symlink to a file.
      .filter((name) => POLICY_FILE.test(name) && statSync(join(dir, name)).isFile())
      .sort()
      .map((name) => ({ file: name, text: readFileSync(join(dir, name), 'utf8') }))
  );
}

/** Loads and compiles a policy directory; an unreadable directory is a load issue, not an exception. */
export function loadPolicyDir(dir: string, opts: PolicyLoadOptions): CompileResult {
  let sources: PolicySource[];
  try {
    sources = readPolicyDir(dir);
  } catch (err) {
    return { ok: false, issues: [{ file: dir, line: 1, ruleId: null, message: `cannot read policy directory: ${(err as Error).message}` }] };
  }
  return compilePolicySources(sources, opts);
}
