// Secret references in configuration: a secret is named by `<key>_env` (an environment variable)
// or `<key>_file` (a file path), never required inline, and resolved once at start-up.

import { readFileSync } from 'node:fs';
import { z } from 'zod';

/** `{password_env: NAME}` or `{password_file: PATH}` (or inline `password`, discouraged): for key `password`. */
export function secretRefShape<K extends string>(key: K) {
  return {
    [key]: z.string().min(1).optional(),
    [`${key}_env`]: z.string().min(1).optional(),
    [`${key}_file`]: z.string().min(1).optional(),
  } as Record<K | `${K}_env` | `${K}_file`, z.ZodOptional<z.ZodString>>;
}

export type SecretRef = { readonly value?: string | undefined; readonly env?: string | undefined; readonly file?: string | undefined };

/** Pick the secret reference for `key` out of a parsed config object. */
export function secretRefOf(obj: Record<string, unknown>, key: string): SecretRef {
  return {
    value: obj[key] as string | undefined,
    env: obj[`${key}_env`] as string | undefined,
    file: obj[`${key}_file`] as string | undefined,
  };
}

/** A secret reference read now: the value, or why there is none (naming the reference, never a value). */
export function readSecret(ref: SecretRef, env: NodeJS.ProcessEnv = process.env): { ok: true; value: string } | { ok: false; reason: string } {
  if (ref.value !== undefined) return { ok: true, value: ref.value };
  if (ref.env !== undefined) {
    const v = env[ref.env];
    return v === undefined || v === '' ? { ok: false, reason: `environment variable ${ref.env} is not set` } : { ok: true, value: v };
  }
  if (ref.file !== undefined) {
    try {
      return { ok: true, value: readFileSync(ref.file, 'utf8').replace(/\r?\n$/, '') };
    } catch (err) {
      return { ok: false, reason: `cannot read secret file ${ref.file} (${(err as NodeJS.ErrnoException).code ?? 'error'})` };
    }
  }
  return { ok: false, reason: 'no secret given' };
}

/** Resolve a secret reference; throws an Error naming the reference (never the value) when missing. */
export function resolveSecret(ref: SecretRef, what: string, env: NodeJS.ProcessEnv = process.env): string {
  const r = readSecret(ref, env);
  if (r.ok) return r.value;
  throw new Error(r.reason === 'no secret given' ? `${what}: no secret given (set ${what}_env or ${what}_file)` : `${what}: ${r.reason}`);
}

/** Where a secret comes from, for messages (never its value): `environment variable X`, `file Y`, `inline value`. */
export function secretSource(ref: SecretRef): string | null {
  if (ref.value !== undefined) return 'inline value';
  if (ref.env !== undefined) return `environment variable ${ref.env}`;
  if (ref.file !== undefined) return `file ${ref.file}`;
  return null;
}

/**
 * A 32-byte key (AES-256) given as 64 hex characters or base64/base64url: the sessions encryption key.
 * Throws saying what it decoded to, never the key. The format of a configured secret is the
 * configuration's business; auth/browser/seal.ts's parseSealKey reads the same format.
 */
export function parseEncryptionKey(text: string): Buffer {
  const t = text.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(t) ? Buffer.from(t, 'hex') : Buffer.from(t, 'base64');
  if (key.length !== 32)
    throw new Error(`must be 32 bytes, given as 64 hex characters or base64 (it decodes to ${key.length} bytes); make one with: openssl rand -base64 32`);
  return key;
}
