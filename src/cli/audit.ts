// `cephgate migrate` and `cephgate audit verify|export|prune`, on the configured database.

import { createWriteStream, type WriteStream } from 'node:fs';
import { auditExport, auditPrune, auditVerify, runMigrations } from '../audit/cli-commands.ts';
import type { AuditFilter } from '../audit/query.ts';
import { describeError } from '../config/check-explain.ts';
import { config, databaseOptions, groupHelp, parse, UsageError } from './common.ts';
import { HELP } from './usage.ts';

export async function migrateCommand(args: string[]): Promise<number> {
  const { values } = parse(args, {});
  if (values.help) {
    console.log(HELP.migrate);
    return 0;
  }
  const loaded = config(values.config);
  return runMigrations({ ...databaseOptions(loaded), source: loaded.source });
}

function isoDate(name: string, v: string | undefined): Date | undefined {
  if (v === undefined) return undefined;
  const d = new Date(v);
  if (Number.isNaN(d.getTime())) throw new UsageError(`--${name} must be an ISO date or date-time`);
  return d;
}

/** The --out file, opened before the database is: a path that cannot be written is one line and exit 2, not an 'error' event. */
async function outFile(path: string): Promise<WriteStream | string> {
  const out = createWriteStream(path, { flags: 'w' });
  return new Promise((resolve) => {
    out.once('open', () => resolve(out));
    out.once('error', (err) => resolve(`cannot write --out ${path}: ${describeError(err, { service: 'file', endpoint: path })}`));
  });
}

const AUDIT_OPTIONS = {
  format: { type: 'string' },
  since: { type: 'string' },
  until: { type: 'string' },
  out: { type: 'string' },
  'older-than': { type: 'string' },
  'dry-run': { type: 'boolean' },
  key: { type: 'string' },
  principal: { type: 'string' },
  cluster: { type: 'string' },
  pool: { type: 'string' },
  operation: { type: 'string' },
  decision: { type: 'string' },
} as const;

function exportFilter(values: { [k: string]: string | boolean | undefined }): AuditFilter {
  const str = (k: string) => values[k] as string | undefined;
  const from = isoDate('since', str('since'));
  const to = isoDate('until', str('until'));
  const decision = str('decision');
  if (decision !== undefined && decision !== 'allow' && decision !== 'deny') throw new UsageError('--decision must be allow or deny');
  return {
    ...(from ? { from } : {}),
    ...(to ? { to } : {}),
    ...(str('principal') ? { principal: str('principal') as string } : {}),
    ...(str('cluster') ? { cluster: str('cluster') as string } : {}),
    ...(str('pool') ? { pool: str('pool') as string } : {}),
    ...(str('operation') ? { operation: str('operation') as string } : {}),
    ...(decision ? { decision } : {}),
  };
}

/** --older-than DAYS (a whole number, at least 1), else audit.retention_days; null: nothing to prune (said why). */
function pruneDays(flag: string | undefined, retentionDays: number, source: string): number | null {
  if (flag !== undefined) {
    const days = Number(flag);
    if (!/^\d+$/.test(flag) || days < 1)
      throw new UsageError(`--older-than ${flag}: give a whole number of days, at least 1 (records older than that are removed)`);
    return days;
  }
  if (retentionDays > 0) return retentionDays;
  console.log(`audit prune: audit.retention_days is 0 in ${source} (keep everything) and no --older-than DAYS was given; nothing pruned`);
  return null;
}

export async function auditCommand(args: string[]): Promise<number> {
  const help = groupHelp('audit', args, ['verify', 'export', 'prune']);
  if (help !== null) return help;
  const [verb, ...rest] = args;
  const { values } = parse(rest, AUDIT_OPTIONS);
  const loaded = config(values.config);
  const db = databaseOptions(loaded);
  // --key (a private or public Ed25519 PEM) overrides audit.signing_key_file for signature checks.
  const keyFile = values.key ?? loaded.config.audit.signing_key_file;
  switch (verb) {
    case 'verify':
      return auditVerify({ ...db, ...(keyFile ? { keyFile } : {}) });
    case 'export': {
      const format = values.format ?? 'ndjson';
      if (format !== 'ndjson' && format !== 'csv') throw new UsageError('--format must be ndjson or csv');
      const filter = exportFilter(values);
      const out = values.out ? await outFile(values.out) : process.stdout;
      if (typeof out === 'string') {
        console.error(`cephgate audit export: ${out}`);
        return 2;
      }
      return auditExport({ ...db, format, filter }, out);
    }
    default: {
      const days = pruneDays(values['older-than'], loaded.config.audit.retention_days, loaded.source);
      if (days === null) return 0;
      return auditPrune({ ...db, retentionDays: days, ...(keyFile ? { keyFile } : {}), ...(values['dry-run'] ? { dryRun: true } : {}) });
    }
  }
}
