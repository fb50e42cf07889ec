#!/usr/bin/env node
// The cephgate command line: dispatches to one module per command and turns every error into one
// line a person can act on (config/check-explain.ts) with a documented exit code (0 ok, 1 check
// failed, 2 usage/config/could not run). `serve` reports its own failures through its JSON log.

import { readFileSync } from 'node:fs';
import { apikeyCommand } from './cli/apikey.ts';
import { auditCommand, migrateCommand } from './cli/audit.ts';
import { ConfigError, UsageError } from './cli/common.ts';
import { configCommand } from './cli/config.ts';
import { installFatalHandlers, reportFatal } from './cli/fatal.ts';
import { policyCommand } from './cli/policy.ts';
import { serveCommand } from './cli/serve.ts';
import { HELP, MAIN_HELP, VERSION_TEXT } from './cli/usage.ts';
import { PolicyLoadError } from './policy/model.ts';
import { StartupError } from './server/startup-error.ts';

function version(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  }
}

const COMMANDS: Record<string, (args: string[]) => Promise<number>> = {
  serve: serveCommand,
  config: configCommand,
  migrate: migrateCommand,
  policy: policyCommand,
  audit: auditCommand,
  apikey: apikeyCommand,
  version: async () => {
    console.log(VERSION_TEXT(version()));
    return 0;
  },
};

export async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    console.log(command === 'help' && args[0] && HELP[args[0]] ? HELP[args[0]] : MAIN_HELP);
    return command === undefined ? 2 : 0;
  }
  if (command === '--version' || command === '-v') return COMMANDS.version?.([]) ?? 0;
  const run = COMMANDS[command];
  if (!run) {
    console.error(`cephgate: unknown command ${JSON.stringify(command)}; run 'cephgate --help'`);
    return 2;
  }
  installFatalHandlers(command);
  try {
    return await run(args);
  } catch (err) {
    if (err instanceof UsageError) console.error(`cephgate ${command}: ${err.message}; run 'cephgate ${command} --help'`);
    else if (err instanceof ConfigError || err instanceof PolicyLoadError) console.error(`cephgate: ${err.message}`);
    else {
      reportFatal(err, command);
      if (err instanceof StartupError) return err.exitCode === 3 ? 2 : err.exitCode;
    }
    return 2;
  }
}

void main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
  // `serve` has closed its listeners, pools and database: do not wait for stray timers.
  if (process.argv[2] === 'serve') process.exit(code);
});
