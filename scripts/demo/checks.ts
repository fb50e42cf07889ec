// What the demo tells a newcomer to try: curl lines (allowed and denied, with the status each must
// give), rendered exactly as printed and, with --non-interactive, run through `sh -c` as printed.

import { execFile } from 'node:child_process';

export type DemoUserName = 'alice' | 'bob' | 'carol' | 'dave' | 'erin';

export interface Check {
  /** Whose token goes in `Authorization` ($ALICE ...); null: no credential at all. */
  readonly who: DemoUserName | null;
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Path on the public listener, or on the admin listener when `admin`. */
  readonly path: string;
  readonly body?: unknown;
  readonly admin?: boolean;
  /** Statuses that count as the printed result (Ceph answers 202 when a task takes over 5 s). */
  readonly expect: readonly number[];
  readonly why: string;
}

/** Pool and image the checks create (as alice) and remove again (as erin). */
export const DEMO_POOL = 'team-a-demo';
const IMAGE_SPEC = `${DEMO_POOL}%2Fdemo-img`;

export function demoChecks(opts: { browserLogin: boolean }): Check[] {
  const checks: Check[] = [
    { who: null, method: 'GET', path: '/api/pool', expect: [401], why: 'no credential: refused before policy' },
    { who: 'alice', method: 'GET', path: '/api/health/minimal', expect: [200], why: 'team-a may read everything (as the read-only Ceph account)' },
    {
      who: 'alice',
      method: 'POST',
      path: '/api/pool',
      expect: [201, 202],
      why: 'team-a creates its own pool team-a-*',
      body: { pool: DEMO_POOL, pg_num: 8, pool_type: 'replicated', application_metadata: ['rbd'] },
    },
    {
      who: 'alice',
      method: 'POST',
      path: '/api/pool',
      expect: [403],
      why: 'but not a pool of another team (rule team-a-own-pools does not match)',
      body: { pool: 'team-b-demo', pg_num: 8, pool_type: 'replicated' },
    },
    {
      who: 'alice',
      method: 'POST',
      path: '/api/block/image',
      expect: [201, 202],
      why: 'team-a creates an RBD image in its pool',
      body: { name: 'demo-img', pool_name: DEMO_POOL, size: 4194304 },
    },
    {
      who: 'alice',
      method: 'GET',
      path: `/api/block/image/${IMAGE_SPEC}`,
      expect: [200],
      why: 'and reads it back (image spec percent-encoded in one segment)',
    },
    {
      who: 'alice',
      method: 'PUT',
      path: '/api/osd/flags',
      body: { flags: ['noout'] },
      expect: [403],
      why: 'team-a never changes OSDs (deny rule team-a-never-osd)',
    },
    { who: 'bob', method: 'GET', path: '/api/block/image', expect: [200], why: 'team-b reads RBD images' },
    { who: 'bob', method: 'DELETE', path: `/api/block/image/${IMAGE_SPEC}`, expect: [403], why: "team-b may not delete an image in team-a's pool" },
    { who: 'bob', method: 'GET', path: '/api/osd', expect: [403], why: 'no rule lets team-b read OSDs: denied by default' },
    { who: 'carol', method: 'GET', path: '/api/osd', expect: [200], why: 'operators read everything' },
    {
      who: 'carol',
      method: 'PUT',
      path: '/api/osd/flags/individual',
      expect: [200],
      why: 'operators set per-OSD flags (as the operator account)',
      body: { ids: [0], flags: { noout: false } },
    },
    { who: 'carol', method: 'DELETE', path: '/api/osd/0', expect: [403], why: 'operators never remove OSDs (deny rule operators-never-remove-osds)' },
    { who: 'dave', method: 'GET', path: '/gateway/v1/audit?limit=3', expect: [200], why: 'auditors read the audit log (newest first)' },
    { who: 'dave', method: 'GET', path: '/api/pool', expect: [403], why: 'and nothing of Ceph' },
    {
      who: 'erin',
      method: 'DELETE',
      path: `/api/pool/${DEMO_POOL}`,
      expect: [202, 204],
      why: 'break-glass may do anything (as the admin account): removes the demo pool',
    },
    { who: null, method: 'GET', path: '/metrics', expect: [404], why: 'the public listener serves no metrics or health endpoints' },
    { who: null, method: 'GET', path: '/readyz', admin: true, expect: [200], why: 'admin listener: ready (audit store and Ceph reachable)' },
    { who: null, method: 'GET', path: '/metrics', admin: true, expect: [200], why: 'admin listener: Prometheus metrics (cephgate_requests_total, ...)' },
  ];
  if (opts.browserLogin) {
    checks.splice(1, 0, { who: null, method: 'GET', path: '/gateway/login', expect: [302, 303], why: 'browser login starts with a redirect to the IdP' });
  }
  return checks;
}

const shellQuote = (s: string) => `'${s.replaceAll("'", "'\\''")}'`;

/** The curl line as printed. `-w` puts ` -> <status>` after the body so a reader sees both. */
export function curlLine(c: Check, urls: { pub: string; admin: string }): string {
  // -g: the brackets of a JSON body or query must not be read as curl URL globs.
  const parts = ['curl -sg', `-w ' -> %{http_code}\\n'`];
  if (c.method !== 'GET') parts.push(`-X ${c.method}`);
  if (c.who) parts.push(`-H "Authorization: Bearer $${c.who.toUpperCase()}"`);
  if (c.body !== undefined) parts.push(`-H 'Content-Type: application/json'`, `-d ${shellQuote(JSON.stringify(c.body))}`);
  parts.push(`${shellQuote(`${c.admin ? urls.admin : urls.pub}${c.path}`)}`);
  // The full scrape is long: keep the request counters and the status line.
  if (c.path === '/metrics' && c.admin) parts.push(`| grep -E '^cephgate_requests_total|^ -> '`);
  return parts.join(' ');
}

export interface CheckResult {
  readonly check: Check;
  readonly line: string;
  readonly status: number | null;
  readonly ok: boolean;
  /** The start of the response body (for the summary). */
  readonly body: string;
}

/** Runs one printed line through sh with the tokens in the environment, as a reader would. */
export function runLine(line: string, env: NodeJS.ProcessEnv): Promise<{ status: number | null; body: string }> {
  return new Promise((resolve) => {
    execFile('sh', ['-c', line], { env, timeout: 60_000, maxBuffer: 16 << 20 }, (_err, stdout) => {
      const text = String(stdout);
      const m = /\s->\s(\d{3})\s*$/.exec(text);
      resolve({ status: m ? Number(m[1]) : null, body: (m ? text.slice(0, m.index) : text).trim() });
    });
  });
}

/**
 * A 202 means Ceph still runs the task (docs/ceph-facts.md: long tasks answer after 5 s): wait until
 * `GET /api/task` lists nothing executing, so the next line (an image in the new pool) finds it done.
 */
async function waitForCephTasks(pub: string, token: string | undefined): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    const res = await fetch(`${pub}/api/task`, { headers: { authorization: `Bearer ${token ?? ''}`, accept: 'application/json' } });
    const body = (await res.json().catch(() => null)) as { executing_tasks?: unknown[] } | null;
    if (res.status !== 200 || (body?.executing_tasks ?? []).length === 0) return;
    await new Promise((r) => setTimeout(r, 500));
  }
}

export async function runChecks(checks: readonly Check[], urls: { pub: string; admin: string }, env: NodeJS.ProcessEnv): Promise<CheckResult[]> {
  const out: CheckResult[] = [];
  for (const check of checks) {
    const line = curlLine(check, urls);
    const r = await runLine(line, env);
    out.push({ check, line, status: r.status, ok: r.status !== null && check.expect.includes(r.status), body: r.body.slice(0, 300) });
    if (r.status === 202) await waitForCephTasks(urls.pub, env.ERIN);
  }
  return out;
}
