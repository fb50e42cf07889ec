// Which database the gateway uses: the Postgres URL referenced by audit.database_url_env /
// _file (or DATABASE_URL), else none (the embedded PGlite directory).

import type { Config } from './schema.ts';
import { resolveSecret } from './secrets.ts';

export function databaseUrl(config: Config, env: NodeJS.ProcessEnv = process.env): string | null {
  const a = config.audit;
  if (a.database_url === undefined && a.database_url_env === undefined && a.database_url_file === undefined) return null;
  return resolveSecret({ value: a.database_url, env: a.database_url_env, file: a.database_url_file }, 'audit.database_url', env);
}
