// Secrets of a configuration, all of them at once: each one that is needed is referenced, its
// environment variable is set or its file readable, and it has the right form (the 32-byte sessions
// key, a postgres:// URL). Messages name the key and the reference, never the value.

import type { ConfigProblem } from './check-problem.ts';
import { error, warning } from './check-problem.ts';
import type { ConfigView } from './check-schema.ts';
import type { KeyPath } from './check-source.ts';
import { keyOf } from './check-source.ts';
import { parseEncryptionKey, readSecret, type SecretRef, secretRefOf, secretSource } from './secrets.ts';

interface SecretSpec {
  /** Path of the object holding `<key>`, `<key>_env`, `<key>_file`. */
  readonly at: KeyPath;
  readonly holder: Record<string, unknown>;
  readonly key: string;
  /** Needed: a missing reference is an error (else only a given one is checked). */
  readonly required: boolean;
  /** Checks the value's form; returns what is wrong, or null. */
  readonly form?: (value: string) => string | null;
}

/** The key path a problem is reported at: the reference actually written, so its line is found. */
function refPath(s: SecretSpec, ref: SecretRef): KeyPath {
  const suffix = ref.value !== undefined ? '' : ref.env !== undefined ? '_env' : ref.file !== undefined ? '_file' : '_env';
  return [...s.at, `${s.key}${suffix}`];
}

function checkSecret(s: SecretSpec, env: NodeJS.ProcessEnv): ConfigProblem[] {
  const ref = secretRefOf(s.holder, s.key);
  const source = secretSource(ref);
  const name = keyOf([...s.at, s.key]);
  if (source === null) {
    return s.required
      ? [error(refPath(s, ref), `no secret given: set ${s.key}_env (an environment variable) or ${s.key}_file (a file, e.g. a mounted secret)`)]
      : [];
  }
  const out: ConfigProblem[] = [];
  if (ref.value !== undefined) out.push(warning(refPath(s, ref), `an inline secret: use ${s.key}_env or ${s.key}_file outside experiments`));
  const r = readSecret(ref, env);
  if (!r.ok) return [...out, error(refPath(s, ref), r.reason)];
  const wrong = s.form?.(r.value) ?? null;
  if (wrong !== null) out.push(error(refPath(s, ref), `the ${name.split('.').pop()} from ${source} ${wrong}`));
  return out;
}

const encryptionKeyForm = (v: string): string | null => {
  try {
    parseEncryptionKey(v);
    return null;
  } catch (err) {
    return (err as Error).message;
  }
};

const postgresUrlForm = (v: string): string | null => {
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    return 'is not a URL: it must look like postgres://user:password@host:5432/database';
  }
  return u.protocol === 'postgres:' || u.protocol === 'postgresql:' ? null : `must start with postgres:// or postgresql:// (it starts with ${u.protocol}//)`;
};

function specs(view: ConfigView): SecretSpec[] {
  const out: SecretSpec[] = [];
  for (const c of view.clusters) {
    for (const [j, a] of (c.value?.accounts ?? []).entries())
      out.push({ at: [...c.path, 'accounts', j], holder: a as Record<string, unknown>, key: 'password', required: true });
  }
  const bl = view.browserLogin;
  const browser = bl?.enabled === true;
  if (bl) out.push({ at: ['identity', 'browser_login'], holder: bl as Record<string, unknown>, key: 'client_secret', required: browser });
  // The sessions key seals browser sessions' refresh tokens and Ceph-native users' Ceph tokens at rest.
  const native = view.clusters.some((c) => c.value?.native_login?.enabled === true);
  if (view.sessions)
    out.push({
      at: ['identity', 'sessions'],
      holder: view.sessions as Record<string, unknown>,
      key: 'encryption_key',
      required: browser || native,
      form: encryptionKeyForm,
    });
  const audit = view.section('audit');
  if (audit) out.push({ at: ['audit'], holder: audit as Record<string, unknown>, key: 'database_url', required: false, form: postgresUrlForm });
  return out;
}

export function secretProblems(view: ConfigView, env: NodeJS.ProcessEnv): ConfigProblem[] {
  return specs(view).flatMap((s) => checkSecret(s, env));
}
