// Loads the configuration once at start-up: YAML file (--config, CEPHGATE_CONFIG, ./cephgate.yaml,
// or built-in defaults), then CEPHGATE__SECTION__KEY environment overrides, then the zod schema.
// Every problem is reported at once with its key path. This is the only module reading process.env.

import { existsSync, readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { type Config, configSchema } from './schema.ts';

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

/** Which file to read: explicit path, then CEPHGATE_CONFIG, then ./cephgate.yaml when present. */
export function configPath(explicit: string | undefined, env: NodeJS.ProcessEnv): string | null {
  if (explicit) return explicit;
  if (env.CEPHGATE_CONFIG) return env.CEPHGATE_CONFIG;
  return existsSync('cephgate.yaml') ? 'cephgate.yaml' : null;
}

const ENV_PREFIX = 'CEPHGATE__';

/**
 * Environment overrides for deploy-time values: `CEPHGATE__SERVER__LISTEN__PORT=8443` sets
 * `server.listen.port`. Values are read as YAML scalars so numbers and booleans keep their type.
 * `DATABASE_URL`, when set, is the audit database unless the file names one.
 */
export function applyEnvOverrides(raw: Record<string, unknown>, env: NodeJS.ProcessEnv): Record<string, unknown> {
  const out = structuredClone(raw);
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith(ENV_PREFIX) || value === undefined) continue;
    const path = name.slice(ENV_PREFIX.length).toLowerCase().split('__').filter(Boolean);
    if (path.length === 0) continue;
    // Containers are objects or arrays (`CEPHGATE__CEPH__CLUSTERS__0__NAME` indexes a list).
    let node: Record<string, unknown> = out;
    for (const key of path.slice(0, -1)) {
      const next = node[key];
      if (typeof next !== 'object' || next === null) node[key] = {};
      node = node[key] as Record<string, unknown>;
    }
    node[path[path.length - 1] as string] = parseYaml(value) as unknown;
  }
  const audit = (out.audit ?? {}) as Record<string, unknown>;
  if (env.DATABASE_URL && audit.database_url === undefined && audit.database_url_env === undefined && audit.database_url_file === undefined) {
    out.audit = { ...audit, database_url_env: 'DATABASE_URL' };
  }
  return out;
}

/** Formats zod issues as `key.path: message`, one per problem. */
export function formatIssues(issues: readonly z.core.$ZodIssue[]): string[] {
  return issues.map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`);
}

/** Parse and validate a raw (already YAML-parsed) object; throws ConfigError listing every problem. */
export function validateConfig(raw: unknown, source: string): Config {
  const result = configSchema.safeParse(raw ?? {});
  if (!result.success) throw new ConfigError(source, formatIssues(result.error.issues));
  return result.data;
}

export function loadConfig(opts: { path?: string | undefined; env?: NodeJS.ProcessEnv } = {}): LoadedConfig {
  const env = opts.env ?? process.env;
  const path = configPath(opts.path, env);
  let raw: unknown = {};
  if (path !== null) {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      throw new ConfigError(path, [`cannot read the file (${(err as NodeJS.ErrnoException).code ?? 'error'})`]);
    }
    try {
      raw = parseYaml(text) ?? {};
    } catch (err) {
      throw new ConfigError(path, [`not valid YAML: ${(err as Error).message.split('\n')[0]}`]);
    }
    if (typeof raw !== 'object' || Array.isArray(raw)) throw new ConfigError(path, ['(root): must be a mapping']);
  }
  const source = path ?? 'built-in defaults';
  return { config: validateConfig(applyEnvOverrides(raw as Record<string, unknown>, env), source), source };
}
