// AES-256-GCM sealing (NIST SP 800-38D) for refresh tokens at rest and the login-state cookie: a
// random 96-bit IV per message, the tag checked on open, and associated data binding a value to its use.

import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/** A 32-byte key given as 64 hex characters or base64/base64url. */
export function parseSealKey(text: string): Buffer {
  const t = text.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(t) ? Buffer.from(t, 'hex') : Buffer.from(t, 'base64');
  if (key.length !== 32) throw new Error('encryption key must be 32 bytes (64 hex characters or base64)');
  return key;
}

/** `v1.<iv>.<ciphertext>.<tag>`, base64url parts. */
export function seal(key: Buffer, plaintext: string, aad: string): string {
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', key, iv);
  c.setAAD(Buffer.from(aad, 'utf8'));
  const ct = Buffer.concat([c.update(plaintext, 'utf8'), c.final()]);
  return ['v1', iv.toString('base64url'), ct.toString('base64url'), c.getAuthTag().toString('base64url')].join('.');
}

/** The plaintext, or null when the value was not sealed with this key and this associated data. */
export function unseal(key: Buffer, sealed: string, aad: string): string | null {
  const parts = sealed.split('.');
  if (parts.length !== 4 || parts[0] !== 'v1') return null;
  try {
    const d = createDecipheriv('aes-256-gcm', key, Buffer.from(parts[1] as string, 'base64url'));
    d.setAAD(Buffer.from(aad, 'utf8'));
    const tag = Buffer.from(parts[3] as string, 'base64url');
    if (tag.length !== 16) return null;
    d.setAuthTag(tag);
    return Buffer.concat([d.update(Buffer.from(parts[2] as string, 'base64url')), d.final()]).toString('utf8');
  } catch {
    return null;
  }
}
