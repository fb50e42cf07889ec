// Policy globs: `*` is any run of characters (including `/`), `?` is one character. Nothing else is
// special; bracket, brace and backslash characters are refused so a glob means the same to every reader.

const RESERVED = /[[\]{}\\]/;

/** Null when the glob is acceptable, else why not. */
export function globProblem(glob: string): string | null {
  if (glob.length === 0) return 'empty glob';
  if (RESERVED.test(glob)) return `bad glob "${glob}": only * and ? are special; [ ] { } \\ are not allowed`;
  return null;
}

/** One anchored RegExp matching any of the globs, compiled once at load. */
export function compileGlobs(globs: readonly string[]): RegExp {
  const alts = globs.map((g) =>
    g
      .replace(/[.+^$()|/-]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.'),
  );
  return new RegExp(`^(?:${alts.join('|')})$`, 's');
}
