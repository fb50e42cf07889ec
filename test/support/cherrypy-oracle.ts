// Starts test/support/cherrypy-oracle.py: a real CherryPy server wrapped by a Ceph release's own dashboard
// `_request_wrapper`, answering every request with the handler arguments Ceph would build from it.
// Used as the upstream of a gateway in the CherryPy differential tests. Pacific's oracle is Debian 12's
// Python, CherryPy 18.8 and dashboard on this host; Reef's is Debian 13's Python, CherryPy 18.10 and
// dashboard 18.2.7 inside the Reef chroot of scripts/ceph (entered as scripts/ceph/runner.ts does).

import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type CephRelease, cephInstalled, reefRootDir } from '../../scripts/ceph/cluster.ts';
import { type Command, chrootCommand, withPdeathsig } from '../../scripts/ceph/runner.ts';
import type { CatalogueOperation } from '../../src/core/catalogue.ts';

/** Debian's interpreter: the one `ceph-mgr-dashboard` installed CherryPy for (the first python3 on PATH may be another). */
export const SYSTEM_PYTHON = '/usr/bin/python3';
/** Where the dashboard is for the release's Python: on this host for Pacific, inside the chroot for Reef. */
export const DASHBOARD_DIR = '/usr/share/ceph/mgr/dashboard';

/** The release's Python with `args` (inside the Reef chroot, /proc and /dev mounted for this process only). */
function python(release: CephRelease, args: string[]): Command {
  return release === 'reef' ? chrootCommand(reefRootDir(), undefined, SYSTEM_PYTHON, args) : { file: SYSTEM_PYTHON, args };
}

/** Null when the release's oracle can run here, else why not. */
export function oracleMissing(release: CephRelease = 'pacific'): string | null {
  if (release === 'reef') {
    const r = cephInstalled('reef');
    if (!r.ok) return r.reason;
  } else if (!existsSync(`${DASHBOARD_DIR}/controllers/_base_controller.py`))
    return `the Ceph dashboard sources are not installed (${DASHBOARD_DIR}; apt-get install ceph-mgr-dashboard)`;
  const c = python(release, ['-c', 'import cherrypy, routes']);
  const r = spawnSync(c.file, c.args, { encoding: 'utf8', ...(c.env ? { env: c.env } : {}) });
  return r.status === 0
    ? null
    : `${release}'s ${SYSTEM_PYTHON} cannot import cherrypy and routes (${(r.stderr || r.error?.message || '').trim().split('\n').at(-1)})`;
}

/** What the oracle answers: the route that matched and the arguments the handler received. */
export interface OracleAnswer {
  readonly args: Record<string, unknown>;
}

export interface Oracle {
  readonly url: string;
  close(): Promise<void>;
}

export interface OracleRoute {
  readonly method: string;
  readonly template: string;
  /** As the dashboard's `@allow_empty_body`: CherryPy's own body processors (form fields) stay on. */
  readonly allow_empty_body?: boolean;
}

export const routesOf = (ops: readonly CatalogueOperation[], allowEmptyBody: boolean): OracleRoute[] =>
  ops.map((o) => ({ method: o.method, template: o.template, allow_empty_body: allowEmptyBody && o.method !== 'GET' && o.method !== 'DELETE' }));

export async function startOracle(routes: readonly OracleRoute[], release: CephRelease = 'pacific'): Promise<Oracle> {
  // The script goes in on stdin (`python3 -`): the chroot cannot see this checkout. Python reads all
  // of it before running it, so stdin is free again when the server starts.
  const script = readFileSync(fileURLToPath(new URL('./cherrypy-oracle.py', import.meta.url)), 'utf8');
  // Parent-death signal: a killed test runner leaves no oracle running (in the chroot or not).
  const c = withPdeathsig(python(release, ['-', JSON.stringify(routes), DASHBOARD_DIR]));
  const child: ChildProcess = spawn(c.file, c.args, { stdio: ['pipe', 'pipe', 'pipe'], ...(c.env ? { env: c.env } : {}) });
  child.stdin?.end(script);
  let err = '';
  child.stderr?.on('data', (d: Buffer) => {
    err += d.toString('utf8');
  });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`the CherryPy oracle did not start within 20 s: ${err.slice(-500)}`)), 20_000);
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString('utf8');
      const m = /READY (\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the CherryPy oracle exited with ${code}: ${err.slice(-1000)}`));
    });
  });
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
