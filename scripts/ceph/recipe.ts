// The bootstrap recipe of a throwaway single-host cluster (docs/ceph-facts.md, "A real single-host cluster for
// tests"): keys, monmap, mon, mgrs with the dashboard, one memstore OSD, the admin user, and the
// waits until all of it answers. The same for every release; runner.ts decides where it runs.

import { randomUUID } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { confText } from './conf.ts';
import type { ClusterProcesses } from './daemons.ts';
import type { CephRelease } from './runner.ts';
import { probeStatus, tail, waitFor } from './support.ts';

/**
 * Upper bound of each start-up wait. ~10 s is typical; with several clusters and other work on a
 * 2-core machine the mgr's Python start alone took 40 s, and a dead daemon fails a wait at once.
 */
const STARTUP_TIMEOUT_MS = 180_000;

export interface RecipeContext {
  name: string;
  release: CephRelease;
  dir: string;
  conf: string;
  monPort: number;
  dashPorts: number[];
  dashboardUrls: string[];
  mgrIds: string[];
  adminUser: string;
  adminPassword: string;
  procs: ClusterProcesses;
  /** `ceph -c <conf> --connect-timeout 15 ...` of this cluster's release. */
  ceph: (args: string[], o?: { input?: string; logFor?: string }) => Promise<string>;
  log: (line: string) => void;
  t0: number;
}

export async function bootstrap(c: RecipeContext): Promise<void> {
  const { name, release, dir, conf, monPort, dashPorts, dashboardUrls, mgrIds, adminUser, adminPassword, procs, ceph, log, t0 } = c;
  const mgrCount = mgrIds.length;
  const logOf = (daemon: string) => join(dir, 'log', `ceph-${daemon}.log`);
  const waitUp = <T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>, onTimeout: () => Promise<string>) =>
    waitFor(what, timeoutMs, probe, onTimeout, procs.assertAlive);

  await Promise.all(['log', 'run', 'crash', 'mon/a', 'osd/0', ...mgrIds.map((m) => `mgr/${m}`)].map((d) => mkdir(join(dir, d), { recursive: true })));
  const fsid = randomUUID();
  await writeFile(conf, confText(release, dir, fsid, monPort));

  log('creating keys and monmap');
  const monKeyring = join(dir, 'mon.keyring');
  const adminKeyring = join(dir, 'keyring');
  // A fresh cluster's first `osd new` gets id 0. Every key is made up front and the mgr keys are
  // imported into the mon's initial auth db, which saves one ~0.5 s `ceph auth` call per daemon.
  const osdId = '0';
  const osdKeyring = join(dir, 'osd', osdId, 'keyring');
  const authtool = (keyring: string, entity: string, caps: Record<string, string>) =>
    procs.run('ceph-authtool', ['--create-keyring', keyring, '--gen-key', '-n', entity, ...Object.entries(caps).flatMap(([k, v]) => ['--cap', k, v])]);
  await Promise.all([
    authtool(monKeyring, 'mon.', { mon: 'allow *' }),
    authtool(adminKeyring, 'client.admin', { mon: 'allow *', osd: 'allow *', mgr: 'allow *', mds: 'allow *' }),
    ...mgrIds.map((id) => authtool(join(dir, 'mgr', id, 'keyring'), `mgr.${id}`, { mon: 'allow profile mgr', osd: 'allow *', mds: 'allow *' })),
    authtool(osdKeyring, `osd.${osdId}`, {}),
    procs.run('monmaptool', ['--create', '--addv', 'a', `[v2:127.0.0.1:${monPort}]`, '--fsid', fsid, join(dir, 'monmap')]),
  ]);
  for (const k of [adminKeyring, ...mgrIds.map((id) => join(dir, 'mgr', id, 'keyring'))]) {
    await procs.run('ceph-authtool', [monKeyring, '--import-keyring', k]);
  }
  await procs.run('ceph-mon', ['-c', conf, '--mkfs', '-i', 'a', '--monmap', join(dir, 'monmap'), '--keyring', monKeyring], { logFor: 'mon.a' });
  await procs.spawnDaemon('mon', 'a');
  await waitUp(
    'mon quorum',
    60_000,
    async () => ((await ceph(['mon', 'stat'])).includes('quorum') ? true : undefined),
    () => tail(logOf('mon.a')),
  );
  log(`mon up after ${Date.now() - t0} ms`);

  const startMgrs = async () => {
    // --force: the dashboard module's options are unknown until a mgr has reported them (docs/ceph-facts.md).
    await Promise.all([
      ceph(['config', 'set', 'mgr', 'mgr/dashboard/ssl', 'false', '--force']),
      ceph(['config', 'set', 'mgr', 'mgr/dashboard/server_addr', '127.0.0.1', '--force']),
      ...mgrIds.map((id, i) => ceph(['config', 'set', 'mgr', `mgr/dashboard/${id}/server_port`, String(dashPorts[i]), '--force'])),
    ]);
    for (const id of mgrIds) await procs.spawnDaemon('mgr', id);
  };
  const startOsd = async () => {
    const uuid = randomUUID();
    // `osd new` with cephx_secret also creates osd.0's auth entity with the osd profile caps.
    const key = (await readFile(osdKeyring, 'utf8')).match(/key = (\S+)/)?.[1];
    if (!key) throw new Error(`cluster ${name}: no key in ${osdKeyring}`);
    const got = (await ceph(['osd', 'new', uuid, osdId, '-i', '-'], { input: JSON.stringify({ cephx_secret: key }) })).trim();
    if (got !== osdId) throw new Error(`cluster ${name}: expected osd id ${osdId}, got ${got}`);
    await procs.run('ceph-osd', ['-c', conf, '-i', osdId, '--mkfs', '--osd-uuid', uuid], { logFor: `osd.${osdId}` });
    await procs.spawnDaemon('osd', osdId);
  };
  await Promise.all([startMgrs(), startOsd()]);

  const mgrLogs = async () =>
    (await Promise.all(mgrIds.map(async (id) => `--- tail of ${logOf(`mgr.${id}`)} ---\n${await tail(logOf(`mgr.${id}`))}`))).join('\n');
  const active = await waitUp(
    'a dashboard answering 401 on /api/health/minimal',
    STARTUP_TIMEOUT_MS,
    async () => {
      const statuses = await Promise.all(dashboardUrls.map(probeStatus));
      return dashboardUrls[statuses.indexOf(401)];
    },
    mgrLogs,
  );
  log(`dashboard up at ${active} after ${Date.now() - t0} ms`);

  // The dashboard may serve HTTP before the mon has the active mgr's command table
  // ("no valid command found"), so the first `ceph dashboard ...` is retried.
  await waitUp(
    '`ceph dashboard` commands',
    60_000,
    async () => {
      await ceph(['dashboard', 'ac-user-create', adminUser, '-i', '-', 'administrator', '--force-password'], { input: adminPassword });
      return true;
    },
    mgrLogs,
  );
  log(`dashboard user ${adminUser} created`);

  await waitUp(
    `osd.${osdId} up and in, all PGs active+clean`,
    STARTUP_TIMEOUT_MS,
    async () => {
      const s = JSON.parse(await ceph(['status', '-f', 'json'])) as {
        osdmap: { num_up_osds: number; num_in_osds: number };
        pgmap: { num_pgs: number; pgs_by_state?: Array<{ state_name: string; count: number }> };
      };
      if (s.osdmap.num_up_osds < 1 || s.osdmap.num_in_osds < 1) return undefined;
      const clean = (s.pgmap.pgs_by_state ?? []).filter((x) => x.state_name === 'active+clean').reduce((a, x) => a + x.count, 0);
      return clean === s.pgmap.num_pgs ? true : undefined;
    },
    () => tail(logOf(`osd.${osdId}`)),
  );
  // Standbys only redirect once they are registered; a fail-over test needs them ready.
  if (mgrCount > 1) {
    await waitUp(
      `${mgrCount - 1} standby mgr(s)`,
      STARTUP_TIMEOUT_MS,
      async () => {
        const d = JSON.parse(await ceph(['mgr', 'dump', '-f', 'json'])) as { standbys: unknown[] };
        return d.standbys.length >= mgrCount - 1 ? true : undefined;
      },
      mgrLogs,
    );
  }
  log(`cluster ready after ${Date.now() - t0} ms`);
}
