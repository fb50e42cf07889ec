// `cephgate serve [--workers N|auto]`: check the configuration as `cephgate config check` does and
// refuse to start on any error (exit 2), then run the gateway, alone or as N workers (node:cluster).
// Every line goes to the JSON log, the fatal one included: a log collector sees why it stopped.

import cluster from 'node:cluster';
import { availableParallelism } from 'node:os';
import type { Logger as PinoLogger } from 'pino';
import { errorsOf } from '../config/check.ts';
import { describeError } from '../config/check-explain.ts';
import { formatProblem } from '../config/check-problem.ts';
import { keyOf, originText } from '../config/check-source.ts';
import { databaseLocation, holdPglite } from '../config/database-url.ts';
import type { Config } from '../config/schema.ts';
import { openDatabase } from '../db/database.ts';
import { migrateDatabase } from '../db/migrate.ts';
import { runPrimary } from '../server/workers.ts';
import { createLogger } from '../telemetry/logger.ts';
import { checkAll } from './check-config.ts';
import { config, parse, UsageError } from './common.ts';
import { reportFatalWith } from './fatal.ts';
import { runGateway } from './serve-gateway.ts';
import { HELP } from './usage.ts';

/** --workers N|auto; null when not given (one process, no primary). */
function workerCount(v: string | undefined): number | null {
  if (v === undefined) return null;
  if (v === 'auto') return availableParallelism();
  if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > 256) throw new UsageError('--workers must be a number from 1 to 256, or auto (one per CPU core)');
  return Number(v);
}

/** From here on, what nothing else caught is a fatal line of this log, not a stack trace on stderr. */
function fatalThrough(log: PinoLogger): void {
  reportFatalWith((err, what) => log.fatal({ err }, `cephgate ${what} stopped: ${describeError(err)}`));
}

/** The primary applies the migrations once, before N workers would race to. */
async function migrateOnce(cfg: Config, log: PinoLogger): Promise<void> {
  if (!cfg.audit.migrate_on_start) return;
  const loc = databaseLocation(cfg);
  const hold = 'pgliteDir' in loc ? holdPglite(loc.pgliteDir, 'serve') : null;
  try {
    const d = await openDatabase({ ...loc, poolMax: 1 });
    try {
      const m = await migrateDatabase(d);
      if (m.applied > 0) log.info({ applied: m.applied, total: m.total }, 'database migrations applied');
    } finally {
      await d.close();
    }
  } finally {
    hold?.release();
  }
}

async function worker(path: string | undefined): Promise<number> {
  const cfg = config(path).config;
  const log = createLogger(cfg.logging, undefined, { worker: Number(process.env.CEPHGATE_WORKER_SLOT ?? cluster.worker?.id ?? 0) });
  fatalThrough(log);
  try {
    return await runGateway(cfg, log, { worker: true });
  } catch (err) {
    log.fatal({ err }, `this worker could not start: ${describeError(err)}`);
    return 2;
  }
}

export async function serveCommand(args: string[]): Promise<number> {
  const { values } = parse(args, { workers: { type: 'string' } });
  if (values.help) {
    console.log(HELP.serve);
    return 0;
  }
  const workers = workerCount(values.workers);
  if (cluster.isWorker) return worker(values.config);

  const report = checkAll({ path: values.config });
  const logging = report.view?.section('logging') ?? { level: 'info', format: 'auto' as const };
  const log = createLogger(logging);
  fatalThrough(log);
  log.info({ config: report.source.label }, 'starting cephgate');
  for (const p of report.problems.filter((x) => x.severity === 'warning'))
    log.warn({ key: keyOf(p.path), where: originText(p.origin) }, `configuration: ${keyOf(p.path)}: ${p.message}`);
  const errors = errorsOf(report.problems);
  if (errors.length > 0 || report.config === null) {
    log.fatal(
      { config: report.source.label, problems: errors.map(formatProblem) },
      `invalid configuration: ${errors.length} error(s); cephgate serve refuses to start ('cephgate config check --probe' says the same, and what the network says)`,
    );
    return 2;
  }
  const cfg = report.config;
  if (workers !== null && workers > 1 && 'pgliteDir' in databaseLocation(cfg)) {
    log.fatal({ workers }, "--workers needs Postgres (audit.database_url_env / DATABASE_URL): the embedded PGlite store is one process's database");
    return 2;
  }
  try {
    if (workers === null) return await runGateway(cfg, log, { worker: false });
    return await runPrimary({ count: workers, config: cfg, log, prepare: () => migrateOnce(cfg, log) });
  } catch (err) {
    log.fatal({ err }, `cephgate could not start: ${describeError(err)}`);
    return 2;
  }
}
