// The whole static check of a configuration, as `cephgate config check` and `serve` run it: the
// configuration's own (config/check.ts) plus what needs the floors above config/: the policies,
// loaded against the configured accounts and the catalogues of the configured releases.

import { join } from 'node:path';
import { loadCatalogue } from '../ceph/catalogue.ts';
import { type ConfigReport, checkConfig, locate } from '../config/check.ts';
import type { ConfigProblem } from '../config/check-problem.ts';
import { keyOf } from '../config/check-source.ts';
import type { CephRelease } from '../core/catalogue.ts';
import { loadPolicyDir } from '../policy/files.ts';

const RELEASES: readonly CephRelease[] = ['pacific', 'reef', 'tentacle'];

/** Policy problems, each at its own file and line. Skipped when the directory itself is the problem (already said). */
function policyProblems(report: ConfigReport): ConfigProblem[] {
  const view = report.view;
  const policy = view?.section('policy');
  if (!view || !policy || report.problems.some((p) => keyOf(p.path) === 'policy.dir')) return [];
  const clusters = view.clusters.flatMap((c) => (c.value ? [c.value] : []));
  // With `release: auto` the release is known only at start-up: a route of any catalogued release is accepted now.
  const releases = clusters.length > 0 && clusters.every((c) => c.release !== 'auto') ? [...new Set(clusters.map((c) => c.release as CephRelease))] : RELEASES;
  const r = loadPolicyDir(policy.dir, {
    catalogues: releases.map(loadCatalogue),
    accounts: clusters.length > 0 ? Object.fromEntries(clusters.map((c) => [c.name, c.accounts.map((a) => a.name)])) : null,
    maxInspectBytes: policy.max_inspect_bytes,
  });
  if (r.ok) return [];
  return r.issues.map((i) => ({
    severity: 'error',
    path: ['policy', 'dir'],
    message: `${i.ruleId === null ? '' : `rule ${i.ruleId}: `}${i.message}`,
    origin: { file: join(policy.dir, i.file), line: i.line },
  }));
}

export function checkAll(opts: { path?: string | undefined; env?: NodeJS.ProcessEnv } = {}): ConfigReport {
  const report = checkConfig(opts);
  const more = policyProblems(report);
  return more.length === 0 ? report : { ...report, problems: locate(report.source, [...report.problems, ...more]) };
}
