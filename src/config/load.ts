// Loads the configuration once at start-up: YAML file (--config, CEPHGATE_CONFIG, ./cephgate.yaml,
// or built-in defaults), then CEPHGATE__SECTION__KEY environment overrides, then the zod schema.
// Every problem is reported at once with its key path and where it was set (file line or variable).
// This is, with config/check-source.ts, the only module reading process.env. `serve` goes further
// with the whole check (config/check.ts): secrets, files, URLs, references, policies.

import type { z } from 'zod';
import { type ConfigProblem, dedupe } from './check-problem.ts';
import { issueProblems } from './check-schema.ts';
import { type ConfigSource, keyOf, originText, readConfigSource } from './check-source.ts';
import { type Config, configSchema } from './schema.ts';

export { applyEnvOverrides, configPath } from './check-source.ts';

export class ConfigError extends Error {
  readonly problems: readonly string[];
  constructor(source: string, problems: readonly string[]) {
    super(`invalid configuration (${source}):\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

export interface LoadedConfig {
  readonly config: Config;
  /** Where it came from: a file path or "built-in defaults". */
  readonly source: string;
}

/** `server.listen.port (cephgate.yaml:3): expected number`, the origin left out when unknown. */
export function problemLine(p: ConfigProblem): string {
  const where = originText(p.origin, '');
  return `${keyOf(p.path)}${where ? ` (${where})` : ''}: ${p.message}`;
}

/** Formats zod issues as `key.path: message`, one per problem. */
export function formatIssues(issues: readonly z.core.$ZodIssue[]): string[] {
  return dedupe(issueProblems(issues)).map(problemLine);
}

/** Parse and validate a raw (already YAML-parsed) object; throws ConfigError listing every problem. */
export function validateConfig(raw: unknown, source: string, where?: ConfigSource): Config {
  const result = configSchema.safeParse(raw ?? {});
  if (result.success) return result.data;
  const problems = dedupe(issueProblems(result.error.issues)).map((p) => ({ ...p, origin: where?.origin(p.path) ?? null }));
  throw new ConfigError(source, problems.map(problemLine));
}

export function loadConfig(opts: { path?: string | undefined; env?: NodeJS.ProcessEnv } = {}): LoadedConfig {
  const src = readConfigSource({ path: opts.path, env: opts.env ?? process.env });
  if (src.fatal.length > 0)
    throw new ConfigError(
      src.label,
      src.fatal.map((f) => (f.line === null ? f.message : `line ${f.line}: ${f.message}`)),
    );
  return { config: validateConfig(src.raw, src.label, src), source: src.label };
}
