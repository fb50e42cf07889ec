// `cephgate migrate` and `cephgate audit verify|export|prune`, on the configured database.

import { createWriteStream } from 'node:fs';
import { auditExport, auditPrune, auditVerify, runMigrations } from '../audit/cli-commands.ts';
import type { AuditFilter } from '../audit/query.ts';
import { config, databaseOptions, parse, UsageError } from './common.ts';
import { HELP } from './usage.ts';

export async function migrateCommand(args: string[]): Promise<number> {
  const { values } = parse(args, {});
  if (values.help) {
    console.log(HELP.migrate);
    return 0;
  }
  return runMigrations(databaseOptions(config(values.config)));
}

function isoDate(name: string, v: string | undefined): Date | undefined {
  if (v === undefined) return undefined;
  const d = new Date(v);
  if (Number.isNaN(d.getTime())) throw new UsageError(`--${name} must be an ISO date or date-time`);
  return d;
}

export async function auditCommand(args: string[]): Promise<number> {
  const [verb, ...rest] = args;
  const { values } = parse(rest, {
    format: { type: 'string' },
    since: { type: 'string' },
    until: { type: 'string' },
    out: { type: 'string' },
    'older-than': { type: 'string' },
    key: { type: 'string' },
    principal: { type: 'string' },
    cluster: { type: 'string' },
    pool: { type: 'string' },
    operation: { type: 'string' },
    decision: { type: 'string' },
  });
  if (values.help || verb === undefined || verb === '--help' || verb === '-h') {
    console.log(HELP.audit);
    return verb === undefined ? 2 : 0;
  }
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
      const from = isoDate('since', values.since);
      const to = isoDate('until', values.until);
      if (values.decision !== undefined && values.decision !== 'allow' && values.decision !== 'deny') throw new UsageError('--decision must be allow or deny');
      const filter: AuditFilter = {
        ...(from ? { from } : {}),
        ...(to ? { to } : {}),
        ...(values.principal ? { principal: values.principal } : {}),
        ...(values.cluster ? { cluster: values.cluster } : {}),
        ...(values.pool ? { pool: values.pool } : {}),
        ...(values.operation ? { operation: values.operation } : {}),
        ...(values.decision ? { decision: values.decision as 'allow' | 'deny' } : {}),
      };
      const out = values.out ? createWriteStream(values.out) : process.stdout;
      return auditExport({ ...db, format, filter }, out);
    }
    case 'prune': {
      const days = values['older-than'] === undefined ? loaded.config.audit.retention_days : Number(values['older-than']);
      if (!Number.isInteger(days) || days < 0) throw new UsageError('--older-than must be a whole number of days');
      return auditPrune({ ...db, retentionDays: days, ...(keyFile ? { keyFile } : {}) });
    }
    default:
      throw new UsageError(`unknown audit command ${JSON.stringify(verb)} (verify, export, prune)`);
  }
}
