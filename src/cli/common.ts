// Shared by the CLI commands: argument parsing with one-line errors, help for commands and their
// subcommands, configuration loading, and who is running the command (for the audit log).

import { hostname, userInfo } from 'node:os';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { databaseLocation } from '../config/database-url.ts';
import { ConfigError, type LoadedConfig, loadConfig } from '../config/load.ts';
import type { DatabaseOptions } from '../db/database.ts';
import { helpOf } from './usage.ts';

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

const wantsHelp = (args: readonly string[]): boolean => args.includes('--help') || args.includes('-h');

/**
 * A command with subcommands (`policy explain ...`): the help asked for, printed before any other
 * argument is checked, so `cephgate policy explain --help` works without the flags explain needs.
 * Returns the exit code when help was printed (or no subcommand given), else null.
 */
export function groupHelp(command: string, args: readonly string[], verbs: readonly string[]): number | null {
  const verb = args[0];
  if (verb === undefined || verb.startsWith('-')) {
    console.log(helpOf(command, undefined));
    return wantsHelp(args) ? 0 : 2;
  }
  if (!verbs.includes(verb)) throw new UsageError(`unknown ${command} command ${JSON.stringify(verb)} (${verbs.join(', ')})`);
  if (wantsHelp(args.slice(1))) {
    console.log(helpOf(command, verb));
    return 0;
  }
  return null;
}

export function config(path: string | undefined): LoadedConfig {
  return loadConfig({ path });
}

export const databaseOptions = (loaded: LoadedConfig): DatabaseOptions => databaseLocation(loaded.config);

/**
 * Who runs this command, as the audit log records it: the operating-system user (and, under sudo,
 * who called sudo) on this host. The command line authenticates nobody; this is what it knows.
 */
export function osUser(env: NodeJS.ProcessEnv = process.env): { id: string; name: string } {
  let name: string;
  try {
    name = userInfo().username;
  } catch {
    // A container user without a passwd entry.
    name = `uid ${process.getuid?.() ?? '?'}`;
  }
  const sudo = env.SUDO_USER && env.SUDO_USER !== name ? ` (sudo by ${env.SUDO_USER})` : '';
  return { id: `os:${name}@${hostname()}`, name: `${name}${sudo}` };
}

export { ConfigError };
