// Reads policy YAML texts into checked raw rules that remember where each field was written,
// so every later error can name file, line and rule. Collects every problem, never stops at one.

import { type Document, LineCounter, parseDocument } from 'yaml';
import type { PolicyLoadIssue } from './model.ts';
import { fileSchema, type RawRule, ruleSchema } from './schema.ts';

export interface PolicySource {
  /** Name shown in errors (relative file name). */
  readonly file: string;
  readonly text: string;
}

export interface ParsedRule {
  readonly raw: RawRule;
  readonly file: string;
  readonly line: number;
  /** Line of a field inside the rule, e.g. `['when', 'body.pool']`, `['routes', 2]`. */
  lineOf(path: readonly (string | number)[]): number;
}

export interface ParseResult {
  readonly rules: ParsedRule[];
  readonly issues: PolicyLoadIssue[];
}

export function parsePolicySources(sources: readonly PolicySource[]): ParseResult {
  const rules: ParsedRule[] = [];
  const issues: PolicyLoadIssue[] = [];
  for (const src of sources) parseOne(src, rules, issues);
  return { rules, issues };
}

function parseOne(src: PolicySource, rules: ParsedRule[], issues: PolicyLoadIssue[]): void {
  const lc = new LineCounter();
  // uniqueKeys (the default) makes a duplicated YAML key an error instead of last-wins.
  const doc = parseDocument(src.text, { lineCounter: lc, uniqueKeys: true, merge: false });
  for (const e of doc.errors) {
    issues.push({ file: src.file, line: e.linePos?.[0].line ?? 1, ruleId: null, message: e.message.split('\n')[0] ?? e.message });
  }
  if (doc.errors.length > 0) return;
  const lineOf = (path: readonly (string | number)[]): number => nodeLine(doc, lc, path);
  const top = fileSchema.safeParse(doc.toJS({ maxAliasCount: 100 }) ?? { rules: [] });
  if (!top.success) {
    for (const is of top.error.issues) {
      const path = is.path.filter((p): p is string | number => typeof p !== 'symbol');
      issues.push({ file: src.file, line: lineOf(path), ruleId: null, message: `${path.join('.') || 'file'}: ${is.message}` });
    }
    return;
  }
  top.data.rules.forEach((rawRule, i) => {
    const at = (path: readonly (string | number)[]) => lineOf(['rules', i, ...path]);
    const idGuess =
      typeof rawRule === 'object' && rawRule !== null && typeof (rawRule as { id?: unknown }).id === 'string' ? (rawRule as { id: string }).id : null;
    const r = ruleSchema.safeParse(rawRule);
    if (!r.success) {
      for (const is of r.error.issues) {
        const path = is.path.filter((p): p is string | number => typeof p !== 'symbol');
        issues.push({ file: src.file, line: at(path), ruleId: idGuess ?? `#${i + 1}`, message: `${path.join('.') || 'rule'}: ${is.message}` });
      }
      return;
    }
    rules.push({ raw: r.data, file: src.file, line: at([]), lineOf: at });
  });
}

/** The line of the deepest existing node on `path` (falls back to the parent when a key is missing). */
function nodeLine(doc: Document, lc: LineCounter, path: readonly (string | number)[]): number {
  for (let n = path.length; n >= 0; n--) {
    const node = doc.getIn(path.slice(0, n), true) as unknown;
    const range = (node as { range?: [number, number, number] } | undefined)?.range;
    if (range !== undefined) return lc.linePos(range[0]).line;
  }
  return 1;
}
