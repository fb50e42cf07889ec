// Which database the gateway uses, decided in one place: the Postgres URL that audit.database_url
// (or its _env / _file form; DATABASE_URL when the file names none, config/load.ts) gives, else the
// embedded PGlite directory audit.pglite_dir. Also who holds that PGlite directory: PGlite is one
// process's database with no lock of its own, and two processes writing one directory corrupt it.

import { closeSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Config } from './schema.ts';
import { resolveSecret } from './secrets.ts';

export type DatabaseLocation = { readonly url: string } | { readonly pgliteDir: string };

export function databaseLocation(config: Config, env: NodeJS.ProcessEnv = process.env): DatabaseLocation {
  const a = config.audit;
  if (a.database_url === undefined && a.database_url_env === undefined && a.database_url_file === undefined) return { pgliteDir: a.pglite_dir };
  return { url: resolveSecret({ value: a.database_url, env: a.database_url_env, file: a.database_url_file }, 'audit.database_url', env) };
}

/** Where the database is, for messages: `postgres 127.0.0.1:5432/cephgate` (never the password), or the PGlite directory. */
export function databaseLabel(loc: { readonly url?: string | undefined; readonly pgliteDir?: string | undefined }): string {
  if (loc.url !== undefined && loc.url !== '') {
    try {
      const u = new URL(loc.url);
      return `postgres ${u.hostname}${u.port ? `:${u.port}` : ''}${u.pathname}`;
    } catch {
      return 'postgres (the URL does not parse)';
    }
  }
  const dir = loc.pgliteDir ?? 'memory://';
  return dir.startsWith('memory://') ? 'PGlite in memory' : `PGlite ${resolve(dir)}`;
}

/** The process holding a PGlite directory, as written in its lock file. */
export interface PgliteHolder {
  readonly pid: number;
  readonly command: string;
  readonly since: string;
}

export class PgliteInUseError extends Error {
  constructor(
    readonly dir: string,
    readonly holder: PgliteHolder,
  ) {
    super(
      `the embedded PGlite database ${resolve(dir)} is in use by \`cephgate ${holder.command}\` (pid ${holder.pid}, since ${holder.since}). ` +
        "PGlite is one process's database: stop that process first; while the gateway runs, manage API keys through its HTTP API " +
        '(/gateway/v1/apikeys, policy Gateway.apikey.admin), or use Postgres (DATABASE_URL) to run CLI commands beside it',
    );
    this.name = 'PgliteInUseError';
  }
}

export interface PgliteHold {
  release(): void;
}

/** The lock sits beside the data directory: PGlite initialises an empty directory and must find nothing else in it. */
const lockPath = (dir: string): string => `${resolve(dir).replace(/\/+$/, '')}.lock`;

function holderOf(path: string): PgliteHolder | null {
  try {
    const h = JSON.parse(readFileSync(path, 'utf8')) as Partial<PgliteHolder>;
    return typeof h.pid === 'number' ? { pid: h.pid, command: String(h.command ?? '?'), since: String(h.since ?? '?') } : null;
  } catch {
    return null;
  }
}

/** Alive and not this very process (in a container a restarted gateway is pid 1 again, like the one that left the lock). */
function aliveOther(pid: number): boolean {
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Claims a PGlite directory for this process (`serve`, or a CLI command for its few seconds); throws
 * PgliteInUseError naming the holder when a live process has it. A lock left by a dead process is taken over.
 */
export function holdPglite(dir: string, command: string): PgliteHold {
  if (dir.startsWith('memory://')) return { release: () => undefined };
  const path = lockPath(dir);
  mkdirSync(dirname(path), { recursive: true });
  const me: PgliteHolder = { pid: process.pid, command, since: new Date().toISOString() };
  for (let attempt = 0; ; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o600);
      writeSync(fd, JSON.stringify(me));
      closeSync(fd);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt >= 2) throw err;
      const holder = holderOf(path);
      if (holder !== null && aliveOther(holder.pid)) throw new PgliteInUseError(dir, holder);
      unlinkSync(path);
    }
  }
  const release = () => {
    if (holderOf(path)?.pid !== process.pid) return;
    try {
      unlinkSync(path);
    } catch {
      // already gone
    }
  };
  process.once('exit', release);
  return {
    release() {
      process.off('exit', release);
      release();
    },
  };
}
