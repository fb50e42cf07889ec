// Starts test/support/cherrypy-oracle.py: a real CherryPy server wrapped by the installed Ceph dashboard's
// own `_request_wrapper`, answering every request with the handler arguments Ceph would build from it.
// Used as the upstream of a gateway in the CherryPy differential tests.

import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { CatalogueOperation } from '../../src/core/catalogue.ts';

/** Debian's interpreter: the one `ceph-mgr-dashboard` installed CherryPy for (the first python3 on PATH may be another). */
export const SYSTEM_PYTHON = '/usr/bin/python3';
export const DASHBOARD_DIR = '/usr/share/ceph/mgr/dashboard';

/** Null when the oracle can run here, else why not. */
export function oracleMissing(): string | null {
  if (!existsSync(`${DASHBOARD_DIR}/controllers/_base_controller.py`))
    return `the Ceph dashboard sources are not installed (${DASHBOARD_DIR}; apt-get install ceph-mgr-dashboard)`;
  const r = spawnSync(SYSTEM_PYTHON, ['-c', 'import cherrypy, routes'], { encoding: 'utf8' });
  return r.status === 0 ? null : `${SYSTEM_PYTHON} cannot import cherrypy and routes (${(r.stderr || r.error?.message || '').trim().split('\n').at(-1)})`;
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

export async function startOracle(routes: readonly OracleRoute[]): Promise<Oracle> {
  const script = fileURLToPath(new URL('./cherrypy-oracle.py', import.meta.url));
  const child: ChildProcess = spawn(SYSTEM_PYTHON, [script, JSON.stringify(routes), DASHBOARD_DIR], { stdio: ['ignore', 'pipe', 'pipe'] });
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
