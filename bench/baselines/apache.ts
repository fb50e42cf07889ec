// B3: Apache httpd + mod_auth_openidc as an OAuth 2.0 resource server in front of the stub, when both are
// installed (Debian: apache2, libapache2-mod-auth-openidc). Config generated into a temp dir, run in the
// foreground as its own process tree (not the system service), access log to a file like B2 and G.

import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Child, freePort, stopProcess, waitForPort } from '../proc.ts';
import { apacheConf } from './apache-conf.ts';
import { writeIssuerKeys } from './issuer-keys.ts';

const BIN = ['/usr/sbin/apache2', '/usr/sbin/httpd', '/usr/local/apache2/bin/httpd'].find((p) => existsSync(p)) ?? null;
const MODULES_DIR =
  ['/usr/lib/apache2/modules', '/usr/lib64/httpd/modules', '/usr/lib/httpd/modules', '/usr/local/apache2/modules'].find((p) => existsSync(p)) ?? null;

/** Why B3 cannot run here, or null when it can (the bench prints this instead of a B3 row's numbers). */
export const APACHE_MISSING: string | null =
  BIN === null
    ? 'Apache httpd not installed (Debian: apache2)'
    : MODULES_DIR === null || !existsSync(join(MODULES_DIR, 'mod_auth_openidc.so'))
      ? 'mod_auth_openidc not installed (Debian: libapache2-mod-auth-openidc)'
      : null;

export interface ApacheOptions {
  readonly upstreamPort: number;
  readonly upstreamToken: string;
  readonly issuer: string;
  readonly audience: string;
  readonly group: string;
  /** Concurrent client connections of the row: httpd gets one worker thread for each. */
  readonly connections: number;
}

/** httpd started as root drops to an unprivileged user; Debian's is www-data, elsewhere nobody. */
function unprivileged(): { name: string; group: string } | null {
  if (process.getuid?.() !== 0) return null;
  const has = (file: string, name: string) =>
    readFileSync(file, 'utf8')
      .split('\n')
      .some((l) => l.startsWith(`${name}:`));
  const name = has('/etc/passwd', 'www-data') ? 'www-data' : 'nobody';
  const group = ['www-data', 'nogroup', 'nobody'].find((g) => has('/etc/group', g)) ?? 'nobody';
  return { name, group };
}

export async function startApache(o: ApacheOptions): Promise<Child> {
  if (BIN === null || MODULES_DIR === null || APACHE_MISSING !== null) throw new Error(APACHE_MISSING ?? 'Apache httpd not installed');
  const dir = await mkdtemp(join(tmpdir(), 'cephgate-bench-apache-'));
  try {
    const port = await freePort();
    const file = join(dir, 'httpd.conf');
    const keys = await writeIssuerKeys(o.issuer, dir);
    const shared = new Set(await readdir(MODULES_DIR));
    // At least 64 threads: httpd's own default pool is 25 per child, and a few spare cost nothing.
    const threads = Math.max(64, o.connections);
    await writeFile(
      file,
      apacheConf({
        dir,
        modulesDir: MODULES_DIR,
        shared,
        port,
        upstreamPort: o.upstreamPort,
        upstreamToken: o.upstreamToken,
        issuer: o.issuer,
        audience: o.audience,
        group: o.group,
        keys,
        threads,
        user: unprivileged(),
      }),
    );
    const proc = spawn(BIN, ['-d', dir, '-f', file, '-DFOREGROUND'], { stdio: ['ignore', 'inherit', 'inherit'] });
    await waitForPort(port, proc, 'Apache httpd', `${dir}/error.log`);
    return {
      proc,
      pid: proc.pid as number,
      info: { port, threads, dir },
      tree: true,
      ask: async () => ({}),
      stop: async () => {
        await stopProcess(proc);
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    // Keep the generated config and the error log for a look when httpd did not come up.
    throw new Error(`${(err as Error).message} (config kept in ${dir})`);
  }
}
