// How `cephgate config check` prints what it found: one line per problem or probe, each
// `where: severity: key: what is wrong: what to do` (where = file:line, $VARIABLE, (default) or
// probe), then a summary line; or one JSON document with --json.

import type { ConfigProblem } from '../config/check-problem.ts';
import { formatProblem } from '../config/check-problem.ts';
import { keyOf, originText } from '../config/check-source.ts';
import type { ProbeResult } from './config-probe.ts';

export interface CheckOutcome {
  readonly source: string;
  readonly problems: readonly ConfigProblem[];
  /** null: not probed. */
  readonly probes: readonly ProbeResult[] | null;
}

export function counts(o: CheckOutcome): { errors: number; warnings: number } {
  const all = [...o.problems.map((p) => p.severity), ...(o.probes ?? []).map((p) => p.status)];
  return { errors: all.filter((s) => s === 'error').length, warnings: all.filter((s) => s === 'warning').length };
}

export function reportText(o: CheckOutcome): string[] {
  const lines = [`config check: ${o.source}`, ...o.problems.map(formatProblem)];
  for (const p of o.probes ?? []) lines.push(`probe: ${p.status}: ${keyOf(p.path)}: ${p.message}`);
  const { errors, warnings } = counts(o);
  const probed = o.probes === null ? ' (not probed: add --probe to reach the dashboards, identity providers and database)' : '';
  lines.push(
    errors === 0
      ? `ok: no errors, ${warnings} warning(s)${probed}`
      : `${errors} error(s), ${warnings} warning(s): serve refuses to start with this configuration${probed}`,
  );
  return lines;
}

export function reportJson(o: CheckOutcome): string {
  return JSON.stringify(
    {
      source: o.source,
      ...counts(o),
      problems: o.problems.map((p) => ({ severity: p.severity, key: keyOf(p.path), where: originText(p.origin), message: p.message })),
      probes: o.probes?.map((p) => ({ status: p.status, key: keyOf(p.path), message: p.message })) ?? null,
    },
    null,
    2,
  );
}
