// Files and directories a configuration names, checked as the gateway will use them: readable, and
// holding what they should (a certificate and its matching key, a CA certificate, an Ed25519 key),
// and the directories the gateway writes to writable. A missing CA file is reported as that, not
// later as "cannot detect the Ceph release".

import { createPrivateKey, X509Certificate } from 'node:crypto';
import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { createSecureContext } from 'node:tls';
import { describeError } from './check-explain.ts';
import { type ConfigProblem, error, warning } from './check-problem.ts';
import type { ConfigView } from './check-schema.ts';
import type { KeyPath } from './check-source.ts';

/** Reads a file the configuration names; a problem at `path` when it cannot. */
function readable(path: KeyPath, file: string, out: ConfigProblem[]): Buffer | null {
  try {
    return readFileSync(file);
  } catch (err) {
    out.push(error(path, describeError(err, { service: 'file', endpoint: file })));
    return null;
  }
}

function serverTls(view: ConfigView, out: ConfigProblem[]): void {
  const tls = view.section('server')?.tls;
  if (tls === undefined) return;
  const cert = readable(['server', 'tls', 'cert_file'], tls.cert_file, out);
  const key = readable(['server', 'tls', 'key_file'], tls.key_file, out);
  if (cert === null || key === null) return;
  try {
    createSecureContext({ cert, key });
  } catch (err) {
    out.push(
      error(['server', 'tls', 'cert_file'], `${tls.cert_file} and ${tls.key_file} are not a PEM certificate and its private key (${(err as Error).message})`),
    );
  }
}

function cephCa(view: ConfigView, out: ConfigProblem[]): void {
  for (const c of view.clusters) {
    const ca = c.value?.tls.ca_file;
    if (ca === undefined) continue;
    const at = [...c.path, 'tls', 'ca_file'];
    const pem = readable(at, ca, out);
    if (pem === null) continue;
    try {
      const cert = new X509Certificate(pem);
      if (new Date(cert.validTo) < new Date()) out.push(warning(at, `the first certificate in ${ca} expired on ${cert.validTo}`));
    } catch {
      out.push(error(at, `${ca} holds no PEM certificate: it must be the CA bundle that signed the dashboards' certificates`));
    }
  }
}

function signingKey(view: ConfigView, out: ConfigProblem[]): void {
  const file = view.section('audit')?.signing_key_file;
  if (file === undefined) return;
  const at = ['audit', 'signing_key_file'];
  const pem = readable(at, file, out);
  if (pem === null) return;
  try {
    const type = createPrivateKey(pem).asymmetricKeyType;
    if (type !== 'ed25519') out.push(error(at, `${file} is a ${type} key: it must be an Ed25519 private key (openssl genpkey -algorithm ed25519)`));
  } catch {
    out.push(error(at, `${file} is not a PEM private key: make one with openssl genpkey -algorithm ed25519`));
  }
}

/** The directory, or the nearest existing parent it would be created in, is writable. */
function writableDir(path: KeyPath, dir: string, what: string, out: ConfigProblem[]): void {
  let d = resolve(dir);
  for (;;) {
    try {
      if (!statSync(d).isDirectory()) {
        out.push(error(path, `${d} is not a directory (${what})`));
        return;
      }
      accessSync(d, constants.W_OK);
      return;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' && dirname(d) !== d) {
        d = dirname(d);
        continue;
      }
      out.push(error(path, `${describeError(err, { service: 'file', endpoint: d })} (${what})`));
      return;
    }
  }
}

function directories(view: ConfigView, out: ConfigProblem[]): void {
  const policy = view.section('policy');
  if (policy) {
    try {
      if (!statSync(policy.dir).isDirectory()) out.push(error(['policy', 'dir'], `${policy.dir} is not a directory`));
    } catch (err) {
      out.push(error(['policy', 'dir'], describeError(err, { service: 'file', endpoint: policy.dir })));
    }
  }
  const audit = view.section('audit');
  if (!audit) return;
  const postgres = audit.database_url !== undefined || audit.database_url_env !== undefined || audit.database_url_file !== undefined;
  if (!postgres) writableDir(['audit', 'pglite_dir'], audit.pglite_dir, 'the embedded PGlite database is written there', out);
  if (audit.spool_max_bytes > 0) writableDir(['audit', 'spool_dir'], audit.spool_dir, 'refusals wait there while the database is down', out);
}

export function fileProblems(view: ConfigView): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  serverTls(view, out);
  cephCa(view, out);
  signingKey(view, out);
  directories(view, out);
  return out;
}
