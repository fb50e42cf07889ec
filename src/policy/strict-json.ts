// A strict JSON parser for policy body inspection (RFC 8259 only). It exists because JSON.parse
// silently keeps the last of duplicate keys while other parsers keep the first: a body whose
// meaning depends on the parser is refused, not guessed at (docs/security.md class 5).

export type JsonResult = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly reason: string };

const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

class JsonSyntaxError extends Error {}

/** Parses UTF-8 bytes. Rejects invalid UTF-8, a BOM, duplicate keys, NaN/Infinity and trailing data. */
export function parseStrictJson(bytes: Uint8Array): JsonResult {
  let text: string;
  try {
    text = decoder.decode(bytes);
  } catch {
    return { ok: false, reason: 'body is not valid UTF-8' };
  }
  if (text.charCodeAt(0) === 0xfeff) return { ok: false, reason: 'body starts with a byte order mark' };
  const p = new Parser(text);
  try {
    p.ws();
    const value = p.value(0);
    p.ws();
    if (p.i !== text.length) throw new JsonSyntaxError(`unexpected data at offset ${p.i}`);
    return { ok: true, value };
  } catch (err) {
    if (err instanceof JsonSyntaxError) return { ok: false, reason: `body is not valid JSON: ${err.message}` };
    throw err;
  }
}

const MAX_DEPTH = 256;
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

class Parser {
  i = 0;
  constructor(private readonly s: string) {}

  ws(): void {
    const s = this.s;
    while (this.i < s.length) {
      const c = s.charCodeAt(this.i);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) this.i++;
      else break;
    }
  }

  value(depth: number): unknown {
    if (depth > MAX_DEPTH) throw new JsonSyntaxError('nested too deeply');
    const c = this.s[this.i];
    if (c === '{') return this.object(depth);
    if (c === '[') return this.array(depth);
    if (c === '"') return this.string();
    if (this.s.startsWith('true', this.i)) return this.lit(4, true);
    if (this.s.startsWith('false', this.i)) return this.lit(5, false);
    if (this.s.startsWith('null', this.i)) return this.lit(4, null);
    NUMBER.lastIndex = this.i;
    const m = NUMBER.exec(this.s);
    if (m === null) throw new JsonSyntaxError(`unexpected ${c === undefined ? 'end of input' : `character at offset ${this.i}`}`);
    this.i += m[0].length;
    return Number(m[0]);
  }

  private lit<T>(n: number, v: T): T {
    this.i += n;
    return v;
  }

  private object(depth: number): Record<string, unknown> {
    // A null-prototype object: a key named __proto__ is an ordinary key, as in Python.
    const out: Record<string, unknown> = Object.create(null);
    this.i++;
    this.ws();
    if (this.s[this.i] === '}') {
      this.i++;
      return out;
    }
    for (;;) {
      if (this.s[this.i] !== '"') throw new JsonSyntaxError(`expected a key at offset ${this.i}`);
      const key = this.string();
      if (Object.hasOwn(out, key)) throw new JsonSyntaxError(`duplicate key "${key.slice(0, 64)}"`);
      this.ws();
      if (this.s[this.i] !== ':') throw new JsonSyntaxError(`expected ':' at offset ${this.i}`);
      this.i++;
      this.ws();
      out[key] = this.value(depth + 1);
      this.ws();
      const c = this.s[this.i++];
      if (c === '}') return out;
      if (c !== ',') throw new JsonSyntaxError(`expected ',' or '}' at offset ${this.i - 1}`);
      this.ws();
    }
  }

  private array(depth: number): unknown[] {
    const out: unknown[] = [];
    this.i++;
    this.ws();
    if (this.s[this.i] === ']') {
      this.i++;
      return out;
    }
    for (;;) {
      this.ws();
      out.push(this.value(depth + 1));
      this.ws();
      const c = this.s[this.i++];
      if (c === ']') return out;
      if (c !== ',') throw new JsonSyntaxError(`expected ',' or ']' at offset ${this.i - 1}`);
    }
  }

  private string(): string {
    const s = this.s;
    let i = this.i + 1;
    let out = '';
    let start = i;
    for (;;) {
      if (i >= s.length) throw new JsonSyntaxError('unterminated string');
      const c = s.charCodeAt(i);
      if (c === 0x22) break;
      if (c < 0x20) throw new JsonSyntaxError(`control character in string at offset ${i}`);
      if (c === 0x5c) {
        out += s.slice(start, i);
        const e = s[i + 1];
        const simple: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
        if (e !== undefined && Object.hasOwn(simple, e)) {
          out += simple[e];
          i += 2;
        } else if (e === 'u' && /^[0-9a-fA-F]{4}$/.test(s.slice(i + 2, i + 6))) {
          out += String.fromCharCode(Number.parseInt(s.slice(i + 2, i + 6), 16));
          i += 6;
        } else throw new JsonSyntaxError(`bad escape at offset ${i}`);
        start = i;
      } else i++;
    }
    out += s.slice(start, i);
    this.i = i + 1;
    return out;
  }
}
