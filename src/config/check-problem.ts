// One problem of a configuration, as `cephgate config check` and `serve` report it: how bad, which
// key, what is wrong and what to do, and where the value came from (file:line or the environment).

import { type KeyPath, keyOf, type Origin, originText } from './check-source.ts';

export type Severity = 'error' | 'warning';

export interface ConfigProblem {
  /** error: serve refuses to start; warning: it starts, but you should know. */
  readonly severity: Severity;
  /** The key the problem is about, e.g. ['ceph', 'clusters', 0, 'tls', 'ca_file']. */
  readonly path: KeyPath;
  /** What is wrong and, after a colon, what to do. Never a secret's value. */
  readonly message: string;
  /** Where the value came from; set by the check from the source, or by the finder (a policy file's line). */
  readonly origin?: Origin | null;
}

export const error = (path: KeyPath, message: string): ConfigProblem => ({ severity: 'error', path, message });
export const warning = (path: KeyPath, message: string): ConfigProblem => ({ severity: 'warning', path, message });

/** `cephgate.yaml:12: error: ceph.clusters[0].tls.ca_file: no such file or directory: /etc/ceph-ca.pem: check the path`. */
export function formatProblem(p: ConfigProblem): string {
  return `${originText(p.origin)}: ${p.severity}: ${keyOf(p.path)}: ${p.message}`;
}

/** The same problem found twice (by the schema and by a rule that also runs when the schema failed) is reported once. */
export function dedupe(problems: readonly ConfigProblem[]): ConfigProblem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const k = `${p.severity} ${keyOf(p.path)} ${p.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
