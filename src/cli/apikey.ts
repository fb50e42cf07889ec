// `cephgate apikey create|list|revoke`: manage API keys directly in the configured database.
// The key is printed once at creation; only its hash is stored.

import { apikeyCreate, apikeyList, apikeyRevoke } from '../auth/api-keys.ts';
import { createApiKeyStore } from '../auth/apikey-store.ts';
import { openDatabase } from '../db/database.ts';
import { migrateDatabase } from '../db/migrate.ts';
import { config, databaseOptions, parse, UsageError } from './common.ts';
import { HELP } from './usage.ts';

export async function apikeyCommand(args: string[]): Promise<number> {
  const [verb, ...rest] = args;
  const { values, positionals } = parse(rest, { name: { type: 'string' }, groups: { type: 'string' }, expires: { type: 'string' } }, true);
  if (values.help || verb === undefined || verb === '--help' || verb === '-h') {
    console.log(HELP.apikey);
    return verb === undefined ? 2 : 0;
  }
  if (!['create', 'list', 'revoke'].includes(verb)) throw new UsageError(`unknown apikey command ${JSON.stringify(verb)} (create, list, revoke)`);
  if (verb === 'create' && !values.name) throw new UsageError('apikey create needs --name');
  if (verb === 'revoke' && positionals.length !== 1) throw new UsageError('apikey revoke needs one key id or name');
  const loaded = config(values.config);
  let database: Awaited<ReturnType<typeof openDatabase>>;
  try {
    database = await openDatabase({ ...databaseOptions(loaded), connectTimeoutMs: 5000 });
    if (loaded.config.audit.migrate_on_start) await migrateDatabase(database);
  } catch (err) {
    console.error(`cephgate: apikey: cannot open the database: ${(err as Error).message}`);
    return 2;
  }
  try {
    const store = createApiKeyStore(database.db);
    if (verb === 'create') {
      const groups = (values.groups ?? '')
        .split(',')
        .map((g) => g.trim())
        .filter(Boolean);
      const { key, view } = await apikeyCreate(
        store,
        { name: values.name as string, groups, ...(values.expires ? { expires: values.expires } : {}), createdBy: 'cli' },
        { maxLifetimeDays: loaded.config.identity.api_keys.max_lifetime_days },
      );
      console.log(key);
      console.error(
        `created API key ${view.id} (${view.name}) for groups [${view.groups.join(', ')}], expires ${view.expiresAt ?? 'never'}; it is shown only now`,
      );
      return 0;
    }
    if (verb === 'list') {
      for (const k of await apikeyList(store)) console.log(JSON.stringify(k));
      return 0;
    }
    const ok = await apikeyRevoke(store, positionals[0] as string);
    if (!ok) {
      console.error(`cephgate: apikey revoke: no key ${JSON.stringify(positionals[0])}`);
      return 1;
    }
    console.log(`revoked ${positionals[0]}`);
    return 0;
  } catch (err) {
    console.error(`cephgate: apikey ${verb}: ${(err as Error).message}`);
    return 2;
  } finally {
    await database.close().catch(() => undefined);
  }
}
