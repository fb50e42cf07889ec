// In-process microbenchmark of decide() at 10 / 1,000 / 10,000 rules in both synthetic shapes (own process,
// nothing else on its event loop). Each call is timed alone with hrtime (timer cost ~0.05 µs included).
// Prints one JSON line: rows of {shape, rules, case, bucket, median_us, p99_us}.

import { parseArgs } from 'node:util';
import { benchInputs, compileSynthetic, type RuleShape } from './synthetic-rules.ts';

const { values } = parseArgs({ options: { iterations: { type: 'string', default: '20000' }, counts: { type: 'string', default: '10,1000,10000' } } });
const iterations = Number(values.iterations);
const counts = values.counts.split(',').map(Number);

export interface PolicyRow {
  readonly shape: RuleShape;
  readonly rules: number;
  readonly case: string;
  readonly effect: string;
  /** Rules indexed for the operation (what one decision scans at most). */
  readonly bucket: number;
  readonly samples: number;
  readonly median_us: number;
  readonly p99_us: number;
  readonly compile_ms: number;
}

const rows: PolicyRow[] = [];
const inputs = benchInputs();
for (const shape of ['spread', 'teams'] as const) {
  for (const count of counts) {
    const t0 = performance.now();
    const engine = compileSynthetic(count, shape);
    const compileMs = Math.round(performance.now() - t0);
    for (const [name, input] of Object.entries(inputs)) {
      const op = input.route.operation;
      const bucket = op === null ? 0 : engine.bucketSize(op);
      let effect = '';
      for (let i = 0; i < 200; i++) effect = engine.decide(input).effect; // warm-up: let the JIT settle
      // At most `iterations` calls or ~1 s per case, whichever comes first (slow cases still get 200+ samples).
      const all = new Float64Array(iterations);
      const deadline = process.hrtime.bigint() + 1_000_000_000n;
      let n = 0;
      while (n < iterations && (n < 200 || process.hrtime.bigint() < deadline)) {
        const s = process.hrtime.bigint();
        engine.decide(input);
        all[n++] = Number(process.hrtime.bigint() - s);
      }
      const ns = all.subarray(0, n).sort();
      const at = (p: number) => Math.round((ns[Math.min(n - 1, Math.floor((n * p) / 100))] ?? 0) / 10) / 100;
      rows.push({ shape, rules: count, case: name, effect, bucket, samples: n, median_us: at(50), p99_us: at(99), compile_ms: compileMs });
    }
  }
}
console.log(JSON.stringify(rows));
