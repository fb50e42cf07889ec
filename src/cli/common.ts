// Shared by the CLI commands: argument parsing with one-line errors, and configuration loading.

import { type ParseArgsConfig, parseArgs } from 'node:util';
import { databaseLocation } from '../config/database-url.ts';
import { ConfigError, type LoadedConfig, loadConfig } from '../config/load.ts';
import type { DatabaseOptions } from '../db/database.ts';

export class UsageError extends Error {}

export type Options = NonNullable<ParseArgsConfig['options']>;

export const CONFIG_OPTION = { config: { type: 'string' }, help: { type: 'boolean', short: 'h' } } as const satisfies Options;

export function parse<O extends Options>(args: string[], options: O, allowPositionals = false) {
  try {
    return parseArgs({ args, options: { ...CONFIG_OPTION, ...options }, allowPositionals, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message.split('\n')[0]);
  }
}

export function config(path: string | undefined): LoadedConfig {
  return loadConfig({ path });
}

export const databaseOptions = (loaded: LoadedConfig): DatabaseOptions => databaseLocation(loaded.config);

export { ConfigError };
