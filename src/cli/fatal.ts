// The last word of a command that fails: one line a person can act on (config/check-explain.ts), on
// stderr for the commands people type, through the JSON log for `serve` (one log format, so a log
// collector sees the line that matters). Also catches what nothing else caught (an 'error' event
// without a listener, a rejected promise nobody awaited) instead of Node's stack trace.

import { describeError } from '../config/check-explain.ts';

type Reporter = (err: unknown, what: string) => void;

const toStderr: Reporter = (err, what) => {
  process.stderr.write(`cephgate ${what}: ${describeError(err).replaceAll('\n', ' ')}\n`);
};

let reporter: Reporter = toStderr;

/** `serve` reports through its logger once it has one. */
export function reportFatalWith(fn: Reporter): void {
  reporter = fn;
}

export function reportFatal(err: unknown, what: string): void {
  try {
    reporter(err, what);
  } catch {
    toStderr(err, what);
  }
}

/** Anything thrown past every handler ends the command with exit 2 and one explained line. */
export function installFatalHandlers(command: string): void {
  const die = (err: unknown) => {
    reportFatal(err, command);
    process.exit(2);
  };
  process.on('uncaughtException', die);
  process.on('unhandledRejection', die);
}
