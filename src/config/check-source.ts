// Reads a configuration as `serve` will see it and remembers where every value came from: the YAML
// file with its line numbers (yaml's LineCounter, as the policy loader does), or the CEPHGATE__...
// environment variable that set it. Every problem can then say "cephgate.yaml:12" or
// "CEPHGATE__SERVER__LISTEN__PORT" instead of blaming the file for what the environment did.

import { existsSync, readFileSync } from 'node:fs';
import { type Document, LineCounter, parseDocument } from 'yaml';

export type KeyPath = readonly (string | number)[];

/** Where a value came from: a line of the file, an environment variable, or nowhere (a default). */
export type Origin = { readonly file: string; readonly line: number } | { readonly env: string };

export interface ConfigSource {
  /** The file read, or null for the built-in defaults. */
  readonly path: string | null;
  /** What messages call it: the path, or "built-in defaults". */
  readonly label: string;
  /** The file's mapping with the environment overrides applied: what the schema validates. */
  readonly raw: Record<string, unknown>;
  /** Environment variables that set values, by the key path they set. */
  readonly overrides: readonly { readonly path: KeyPath; readonly env: string }[];
  /** Problems that stop anything else from being checked: unreadable file, YAML syntax, not a mapping. */
  readonly fatal: readonly { readonly message: string; readonly line: number | null }[];
  /** Where the value at `path` (or, when it is absent, its nearest written parent) came from; null: a default. */
  origin(path: KeyPath): Origin | null;
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
export function applyEnvOverrides(
  raw: Record<string, unknown>,
  env: NodeJS.ProcessEnv,
): { raw: Record<string, unknown>; overrides: { path: KeyPath; env: string }[] } {
  const out = structuredClone(raw);
  const overrides: { path: KeyPath; env: string }[] = [];
  for (const [name, value] of Object.entries(env).sort(([a], [b]) => a.localeCompare(b))) {
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
    // A value that is not YAML stays the string it is; the schema then says what it should be.
    const parsed = parseDocument(value);
    node[path[path.length - 1] as string] = parsed.errors.length === 0 ? (parsed.toJS() as unknown) : value;
    overrides.push({ path, env: name });
  }
  const audit = (out.audit ?? {}) as Record<string, unknown>;
  if (env.DATABASE_URL && audit.database_url === undefined && audit.database_url_env === undefined && audit.database_url_file === undefined) {
    out.audit = { ...audit, database_url_env: 'DATABASE_URL' };
    overrides.push({ path: ['audit', 'database_url_env'], env: 'DATABASE_URL' });
  }
  return { raw: out, overrides };
}

/** The line of the deepest written node on `path`; null when not even its first key is in the file. */
function nodeLine(doc: Document, lc: LineCounter, path: KeyPath): number | null {
  for (let n = path.length; n >= 1; n--) {
    const node = doc.getIn(path.slice(0, n), true) as unknown;
    const range = (node as { range?: [number, number, number] } | undefined)?.range;
    if (range !== undefined) return lc.linePos(range[0]).line;
  }
  return null;
}

const samePrefix = (prefix: KeyPath, path: KeyPath): boolean => prefix.length <= path.length && prefix.every((k, i) => String(k) === String(path[i]));

/** Reads the configuration file (or none) and applies the environment; never throws. */
export function readConfigSource(opts: { path?: string | undefined; env?: NodeJS.ProcessEnv } = {}): ConfigSource {
  const env = opts.env ?? process.env;
  const path = configPath(opts.path, env);
  const label = path ?? 'built-in defaults';
  const fatal: { message: string; line: number | null }[] = [];
  const lc = new LineCounter();
  let doc: Document | null = null;
  let fileRaw: Record<string, unknown> = {};
  if (path !== null) {
    let text: string | null = null;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      fatal.push({ message: `cannot read the file (${(err as NodeJS.ErrnoException).code ?? 'error'})`, line: null });
    }
    if (text !== null) {
      // uniqueKeys: a key written twice is an error, not "the last one wins".
      doc = parseDocument(text, { lineCounter: lc, uniqueKeys: true, merge: false });
      for (const e of doc.errors) fatal.push({ message: `not valid YAML: ${e.message.split('\n')[0]}`, line: e.linePos?.[0].line ?? null });
      if (doc.errors.length === 0) {
        const js = doc.toJS({ maxAliasCount: 100 }) as unknown;
        if (js === null || js === undefined) fileRaw = {};
        else if (typeof js !== 'object' || Array.isArray(js)) fatal.push({ message: '(root): must be a mapping', line: 1 });
        else fileRaw = js as Record<string, unknown>;
      }
    }
  }
  const { raw, overrides } = applyEnvOverrides(fileRaw, env);
  return {
    path,
    label,
    raw,
    overrides,
    fatal,
    origin(keyPath) {
      // The last variable applied to a prefix of the path set the value (a longer prefix is more specific).
      const byEnv = overrides.filter((o) => samePrefix(o.path, keyPath)).sort((a, b) => b.path.length - a.path.length)[0];
      if (byEnv !== undefined) return { env: byEnv.env };
      if (doc === null || path === null) return null;
      const line = nodeLine(doc, lc, keyPath);
      return line === null ? null : { file: path, line };
    },
  };
}

/** `ceph.clusters[0].tls.ca_file`. */
export function keyOf(path: KeyPath): string {
  let out = '';
  for (const k of path) out += typeof k === 'number' || /^\d+$/.test(k) ? `[${k}]` : out === '' ? k : `.${k}`;
  return out || '(root)';
}

/** `cephgate.yaml:12`, `$CEPHGATE__SERVER__LISTEN__PORT`, or `(default)`. */
export function originText(o: Origin | null | undefined, fallback = '(default)'): string {
  if (o === null || o === undefined) return fallback;
  return 'env' in o ? `$${o.env}` : `${o.file}:${o.line}`;
}
