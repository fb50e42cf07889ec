// `cephgate apikey create|list|revoke`: manage API keys directly in the configured database, each
// change recorded in the audit log first (cli/apikey-audit.ts), as the HTTP API records its own.
// The key is printed once at creation; only its hash is stored.

import { withDatabase } from '../audit/cli-commands.ts';
import { ApiKeyInputError, apikeyCreate, apikeyList, apikeyRevoke, isUniqueViolation } from '../auth/api-keys.ts';
import { type ApiKeyStore, createApiKeyStore } from '../auth/apikey-store.ts';
import type { Config } from '../config/schema.ts';
import type { Database } from '../db/database.ts';
import { migrateDatabase } from '../db/migrate.ts';
import { beginKeyChange, type KeyChange } from './apikey-audit.ts';
import { config, databaseOptions, groupHelp, parse, UsageError } from './common.ts';

const OPTIONS = { name: { type: 'string' }, groups: { type: 'string' }, 'no-groups': { type: 'boolean' }, expires: { type: 'string' } } as const;

type Values = ReturnType<typeof parse<typeof OPTIONS>>['values'];

function groupsOf(values: Values): string[] {
  if (values.groups !== undefined && values['no-groups']) throw new UsageError('give --groups or --no-groups, not both');
  if (values.groups === undefined && !values['no-groups'])
    throw new UsageError(
      'apikey create needs --groups G1,G2 (the groups its policies match), or --no-groups for a key only rules naming it (subjects.api_keys) match',
    );
  const groups = (values.groups ?? '')
    .split(',')
    .map((g) => g.trim())
    .filter(Boolean);
  if (values.groups !== undefined && groups.length === 0) throw new UsageError('--groups is empty: name at least one group, or give --no-groups');
  return groups;
}

const changeOf = (cfg: Config, c: Pick<KeyChange, 'action' | 'key' | 'details'>): KeyChange => ({
  ...c,
  cluster: cfg.ceph.default_cluster ?? cfg.ceph.clusters[0]?.name ?? 'default',
  redactExtraPaths: cfg.audit.redact_extra_paths,
});

async function create(cfg: Config, database: Database, store: ApiKeyStore, values: Values, groups: string[]): Promise<number> {
  const name = values.name as string;
  if ((await store.list()).some((k) => k.name === name)) {
    console.error(`cephgate apikey create: an API key named ${name} exists (revoked keys keep their name); choose another name`);
    return 1;
  }
  const record = await beginKeyChange(database, changeOf(cfg, { action: 'create', key: name, details: { name, groups, expires: values.expires ?? null } }));
  try {
    const { key, view } = await apikeyCreate(
      store,
      { name, groups, ...(values.expires ? { expires: values.expires } : {}), createdBy: record.principalId },
      { maxLifetimeDays: cfg.identity.api_keys.max_lifetime_days },
    );
    await record.done(201);
    console.log(key);
    const who = view.groups.length > 0 ? `for groups [${view.groups.join(', ')}]` : 'with no groups (only rules naming it in subjects.api_keys match it)';
    console.error(`created API key ${view.id} (${view.name}) ${who}, expires ${view.expiresAt ?? 'never'}; it is shown only now`);
    return 0;
  } catch (err) {
    const input = err instanceof ApiKeyInputError;
    await record.done(input && isUniqueViolation(err) ? 409 : input ? 400 : 500, input ? 'bad_request' : 'internal_error');
    if (!input) throw err;
    console.error(`cephgate apikey create: ${err.message}`);
    return 1;
  }
}

async function revoke(cfg: Config, database: Database, store: ApiKeyStore, idOrName: string): Promise<number> {
  const row = (await store.list()).find((k) => k.id === idOrName || k.name === idOrName);
  if (row === undefined) {
    console.error(`cephgate apikey revoke: no key ${JSON.stringify(idOrName)} ('cephgate apikey list' shows them)`);
    return 1;
  }
  if (row.revokedAt !== null) {
    console.log(`API key ${row.id} (${row.name}) was already revoked at ${row.revokedAt.toISOString()}; nothing changed`);
    return 0;
  }
  const record = await beginKeyChange(database, changeOf(cfg, { action: 'revoke', key: row.id, details: { id: row.id, name: row.name } }));
  await apikeyRevoke(store, row.id);
  await record.done(204);
  console.log(`revoked API key ${row.id} (${row.name})`);
  return 0;
}

export async function apikeyCommand(args: string[]): Promise<number> {
  const help = groupHelp('apikey', args, ['create', 'list', 'revoke']);
  if (help !== null) return help;
  const [verb, ...rest] = args;
  const { values, positionals } = parse(rest, OPTIONS, true);
  let groups: string[] = [];
  if (verb === 'create') {
    if (!values.name) throw new UsageError('apikey create needs --name');
    groups = groupsOf(values);
  }
  if (verb === 'revoke' && positionals.length !== 1) throw new UsageError('apikey revoke needs one key id or name');
  const loaded = config(values.config);
  const cfg = loaded.config;
  return withDatabase({ ...databaseOptions(loaded) }, `apikey ${verb}`, async (database) => {
    if (cfg.audit.migrate_on_start) await migrateDatabase(database);
    const store = createApiKeyStore(database.db);
    if (verb === 'create') return create(cfg, database, store, values, groups);
    if (verb === 'list') {
      for (const k of await apikeyList(store)) console.log(JSON.stringify(k));
      return 0;
    }
    return revoke(cfg, database, store, positionals[0] as string);
  });
}
