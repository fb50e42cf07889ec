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

/** Resolve a secret reference; throws an Error naming the reference (never the value) when missing. */
export function resolveSecret(ref: SecretRef, what: string, env: NodeJS.ProcessEnv = process.env): string {
  if (ref.value !== undefined) return ref.value;
  if (ref.env !== undefined) {
    const v = env[ref.env];
    if (v === undefined || v === '') throw new Error(`${what}: environment variable ${ref.env} is not set`);
    return v;
  }
  if (ref.file !== undefined) {
    try {
      return readFileSync(ref.file, 'utf8').replace(/\r?\n$/, '');
    } catch (err) {
      throw new Error(`${what}: cannot read secret file ${ref.file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  }
  throw new Error(`${what}: no secret given (set ${what}_env or ${what}_file)`);
}
