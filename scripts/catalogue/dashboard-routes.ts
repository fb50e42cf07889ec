// Runs dashboard-routes.py (the dashboard's own router, asked for its routes) on a dashboard source
// directory and checks the shape of what it prints. The Python script is the authority; this only reads it.

import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { z } from 'zod';

/** Debian's interpreter, the one ceph-mgr-dashboard installed CherryPy for (the first python3 on PATH may be another). */
export const SYSTEM_PYTHON: readonly string[] = ['/usr/bin/python3'];
export const INSTALLED_DASHBOARD = '/usr/share/ceph/mgr/dashboard';

const names = z.array(z.string());

const Route = z.strictObject({
  method: z.enum(['GET', 'POST', 'PUT', 'DELETE']),
  /** Connected without a method condition (Proxy endpoints): every method reaches it. */
  any_method: z.boolean(),
  template: z.string().startsWith('/'),
  controller: z.string(),
  module: z.string(),
  handler: z.string(),
  /** Another route of the same controller runs a function of the same name: Ceph calls whichever was set last. */
  handler_shared: z.boolean(),
  api: z.boolean(),
  secure: z.boolean(),
  scope: z.string().nullable(),
  permissions: names,
  /** What Ceph's auth tool does: nothing, token only, 403 for everyone, or the scope's permissions. */
  check: z.enum(['none', 'authenticated', 'forbidden', 'scope']),
  allow_empty_body: z.boolean(),
  path_params: names,
  query_params: names,
  body_params: names,
  var_kwargs: z.boolean(),
  /** null: the endpoint checks no version (Accept is not looked at). */
  version: z.string().nullable(),
  json_response: z.boolean(),
  xml: z.boolean(),
  proxy: z.boolean(),
});

const Listing = z.strictObject({
  source: z.string(),
  stubbed: names,
  modules: z.record(z.string(), z.string().nullable()),
  load_errors: names,
  default_version: z.string(),
  routes: z.array(Route),
  shadowed: z.array(z.strictObject({ method: z.string(), template: z.string(), controller: z.string(), handler: z.string(), shadowed_by: z.string() })),
});

export type DashboardRoute = z.infer<typeof Route>;
export type DashboardListing = z.infer<typeof Listing>;

/**
 * Lists the routes of the dashboard in `dashboardDir`. `python` is the command that runs the script, read from
 * stdin, e.g. `['chroot', '/srv/reef', '/usr/bin/python3']`; the directory is then a path inside that root.
 */
export function listDashboardRoutes(dashboardDir: string, python: readonly string[] = SYSTEM_PYTHON): DashboardListing {
  const [command, ...args] = python;
  if (command === undefined) throw new Error('no python command');
  const script = readFileSync(new URL('./dashboard-routes.py', import.meta.url), 'utf8');
  const run = spawnSync(command, [...args, '-', dashboardDir], { input: script, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (run.error !== undefined) throw new Error(`${python.join(' ')}: ${run.error.message}`);
  if (run.status !== 0) throw new Error(`dashboard-routes.py ${dashboardDir} exited ${run.status}: ${run.stderr.trim().split('\n').slice(-8).join('\n')}`);
  return Listing.parse(JSON.parse(run.stdout));
}
