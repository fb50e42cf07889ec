// The structured logger (pino). JSON by default, pretty on a terminal in development.
// Known secret-bearing keys are redacted wherever they appear, so a careless log call cannot leak them.
// Every logged error carries `err.explained`: what happened and what to do (config/check-explain.ts),
// so the fatal line of `serve` says it in the same JSON as every other line.

import pino, { type Logger } from 'pino';
import { describeError } from '../config/check-explain.ts';

// Fixed paths only: wildcard redaction walks every logged object and cost ~3% of a request in the
// bench profile. Log calls never pass request headers or bodies; these catch the obvious mistakes.
const REDACT = [
  'password',
  'token',
  'authorization',
  'cookie',
  'secret',
  'refresh_token',
  'access_token',
  'client_secret',
  'headers.authorization',
  'headers.cookie',
  'req.headers.authorization',
  'req.headers.cookie',
];

function prettyInstalled(): boolean {
  try {
    import.meta.resolve('pino-pretty');
    return true;
  } catch {
    return false;
  }
}

export interface LogBuffering {
  /** Lines are written once this many bytes wait (0: each line at once). */
  readonly buffer_bytes?: number;
  /** ... and at least this often. */
  readonly flush_interval_ms?: number;
}

/**
 * A pino destination (stdout by default, or a file) that writes JSON lines in batches: handing each
 * line to the file on its own was ~15% of the gateway's busy time at ~700 requests a second against
 * a real Ceph (the access log is one line per request; docs/performance.md). Buffered lines are written at least every `flush_interval_ms` and on
 * exit; a process killed with SIGKILL loses at most that much access log (the audit log is separate
 * and durable).
 */
export function logDestination(opts: LogBuffering, dest: number | string = 1): pino.DestinationStream {
  const minLength = opts.buffer_bytes ?? 0;
  if (minLength === 0) return pino.destination({ dest, sync: true });
  const stream = pino.destination({ dest, sync: true, minLength, periodicFlush: opts.flush_interval_ms ?? 1000 });
  process.once('exit', () => {
    try {
      stream.flushSync();
    } catch {
      // nothing left to write to
    }
  });
  return stream;
}

/** pino's error serializer (message and stack with their causes) plus the explanation a person can act on. */
export function serializeError(err: unknown): Record<string, unknown> {
  if (typeof err !== 'object' || err === null) return { message: String(err), explained: describeError(err) };
  const out = pino.stdSerializers.err(err as Error) as unknown as Record<string, unknown>;
  return { ...out, explained: describeError(err) };
}

export function createLogger(
  opts: { level: string; format: 'auto' | 'json' | 'pretty' } & LogBuffering,
  destination?: pino.DestinationStream,
  fields: Record<string, unknown> = {},
): Logger {
  const pretty = opts.format === 'pretty' || (opts.format === 'auto' && process.stdout.isTTY === true && destination === undefined);
  const base: pino.LoggerOptions = {
    level: opts.level,
    redact: { paths: REDACT, censor: '[redacted]' },
    base: { service: 'cephgate', ...fields },
    serializers: { err: serializeError },
  };
  // pino-pretty is a development dependency: where it is not installed (production images), log JSON.
  // The transport runs in a worker, so its absence must be checked here, not caught later.
  if (pretty && prettyInstalled()) return pino({ ...base, transport: { target: 'pino-pretty', options: { colorize: true } } });
  return pino(base, destination ?? logDestination(opts));
}
