// The static half of `cephgate config check` (the CLI adds the policies and, with --probe, the network):
// every problem of a configuration in one pass, each with the file line or environment variable it
// came from. `serve` runs the same check and refuses to start on any error.

import { fileProblems } from './check-files.ts';
import { type ConfigProblem, dedupe } from './check-problem.ts';
import { referenceProblems } from './check-references.ts';
import { ruleProblems } from './check-rules.ts';
import { type ConfigView, configView, schemaProblems } from './check-schema.ts';
import { secretProblems } from './check-secrets.ts';
import { type ConfigSource, keyOf, readConfigSource } from './check-source.ts';
import type { Config } from './schema.ts';

export interface ConfigReport {
  readonly source: ConfigSource;
  /** The validated configuration, when the schema accepted it. */
  readonly config: Config | null;
  /** What parsed, for further checks; null when the file could not be read at all. */
  readonly view: ConfigView | null;
  readonly problems: readonly ConfigProblem[];
}

export const errorsOf = (problems: readonly ConfigProblem[]): ConfigProblem[] => problems.filter((p) => p.severity === 'error');

/** Errors first, then warnings; within each, in the file's order, then other files (policies), the environment's, defaults. */
function ordered(file: string | null, problems: readonly ConfigProblem[]): ConfigProblem[] {
  const rank = (p: ConfigProblem) => (p.origin && 'line' in p.origin ? p.origin.line + (p.origin.file === file ? 0 : 1e8) : p.origin ? 1e9 : 2e9);
  return [...problems].sort((a, b) => (a.severity === b.severity ? rank(a) - rank(b) : a.severity === 'error' ? -1 : 1));
}

/** Adds the origin of each problem that has none, and orders the list. */
export function locate(source: ConfigSource, problems: readonly ConfigProblem[]): ConfigProblem[] {
  return ordered(source.path, dedupe(problems.map((p) => (p.origin !== undefined ? p : { ...p, origin: source.origin(p.path) }))));
}

export function checkConfig(opts: { path?: string | undefined; env?: NodeJS.ProcessEnv } = {}): ConfigReport {
  const env = opts.env ?? process.env;
  const source = readConfigSource({ path: opts.path, env });
  if (source.fatal.length > 0) {
    const file = source.path ?? source.label;
    const problems = source.fatal.map((f): ConfigProblem => ({ severity: 'error', path: [], message: f.message, origin: { file, line: f.line ?? 1 } }));
    return { source, config: null, view: null, problems };
  }
  const schema = schemaProblems(source.raw);
  const view = configView(source.raw, schema.config);
  // A rule finding about a key the schema already reported adds nothing but noise.
  const reported = new Set(schema.problems.map((p) => keyOf(p.path)));
  const rules = [...referenceProblems(view), ...ruleProblems(view), ...secretProblems(view, env), ...fileProblems(view)].filter(
    (p) => !reported.has(keyOf(p.path)),
  );
  return { source, config: schema.config, view, problems: locate(source, [...schema.problems, ...rules]) };
}
