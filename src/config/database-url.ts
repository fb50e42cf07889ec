// Which database the gateway uses, decided in one place: the Postgres URL that audit.database_url
// (or its _env / _file form; DATABASE_URL when the file names none, config/load.ts) gives, else the
// embedded PGlite directory audit.pglite_dir.

import type { Config } from './schema.ts';
import { resolveSecret } from './secrets.ts';

export type DatabaseLocation = { readonly url: string } | { readonly pgliteDir: string };

export function databaseLocation(config: Config, env: NodeJS.ProcessEnv = process.env): DatabaseLocation {
  const a = config.audit;
  if (a.database_url === undefined && a.database_url_env === undefined && a.database_url_file === undefined) return { pgliteDir: a.pglite_dir };
  return { url: resolveSecret({ value: a.database_url, env: a.database_url_env, file: a.database_url_file }, 'audit.database_url', env) };
}
