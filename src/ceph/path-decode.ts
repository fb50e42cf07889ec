// Strict, single percent-decoding of one raw path segment (docs/ceph-facts.md "Paths that need care": split the raw
// path on literal `/`, decode each parameter once, decide on the decoded values, forward the raw path).

/**
 * Path parameters that legitimately carry `/` once decoded: RBD's `pool/[namespace/]image` specs
 * (`/api/block/image/rbd%2Fimg1`), trash `pool/[namespace/]image_id` specs, CephFS directory paths of
 * the snapshot-schedule routes, and tenanted RGW bucket names (`tenant/bucket`). Everything else
 * containing a decoded `/` is refused.
 */
export const SLASH_PARAMS: ReadonlySet<string> = new Set(['image_spec', 'image_id_spec', 'path', 'bucket']);

// ignoreBOM: keep a leading U+FEFF as Python's decode does; stripping it would decide on another name than Ceph reads.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const HEX = /^[0-9A-Fa-f]{2}$/;
// C0 controls, DEL and C1 controls: never part of a Ceph resource name, and NUL/CR/LF are injection tools.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
/** A `%XX` that survives one decode: Ceph's request wrapper unquotes parameters a second time (see intake/request-target.ts). */
const DOUBLE_ENCODED = /%[0-9A-Fa-f]{2}/;

/** Decodes a raw segment exactly once; null when malformed (bad escape, invalid UTF-8, control character). */
export function decodeSegment(raw: string): string | null {
  if (!raw.includes('%')) return CONTROL.test(raw) ? null : raw;
  const bytes: number[] = [];
  for (let i = 0; i < raw.length; ) {
    const ch = raw.charCodeAt(i);
    if (ch === 0x25) {
      const hex = raw.slice(i + 1, i + 3);
      if (!HEX.test(hex)) return null;
      bytes.push(Number.parseInt(hex, 16));
      i += 3;
    } else if (ch < 0x80) {
      bytes.push(ch);
      i += 1;
    } else {
      // A raw non-ASCII character (intake should have refused it; stay correct anyway): its UTF-8 bytes.
      const cp = raw.codePointAt(i) ?? ch;
      bytes.push(...Buffer.from(String.fromCodePoint(cp), 'utf8'));
      i += cp > 0xffff ? 2 : 1;
    }
  }
  let text: string;
  try {
    text = utf8.decode(Uint8Array.from(bytes));
  } catch {
    return null;
  }
  return CONTROL.test(text) || DOUBLE_ENCODED.test(text) ? null : text;
}

/**
 * The decoded value of path parameter `name`, or null when it must not match: malformed, empty, a decoded
 * `/` outside SLASH_PARAMS, or a `.`/`..`/empty component (no Ceph resource is named so, and an upstream
 * that normalised it would reach another resource).
 */
export function decodeParam(name: string, raw: string): string | null {
  const value = decodeSegment(raw);
  if (value === null || value === '') return null;
  const parts = value.split('/');
  if (parts.length > 1 && !SLASH_PARAMS.has(name)) return null;
  if (parts.some((p) => p === '' || p === '.' || p === '..')) return null;
  return value;
}
