// Where a server's CPU time went, from a V8 CPU profile of the measured window: self time per category
// (the gateway's folders, each package, Node's http/streams/sockets, GC), in µs per request. The `cost`
// scenario puts B1's and G's side by side: the difference is what the gateway costs, in context.

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string };
  readonly children?: readonly number[];
}
export interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

const PINO = new Set(['pino', 'sonic-boom', 'thread-stream', 'pino-std-serializers', 'fast-redact', 'quick-format-unescaped']);

/** The category of a frame that has a script URL, or null for V8's and Node's native frames (no URL). */
function categoryOfUrl(url: string): string | null {
  if (url === '') return null;
  const src = /\/src\/([^/]+)\//.exec(url) ?? /\/src\/([^/]+)\.[jt]s$/.exec(url);
  // The project's src/, or `--compiled`'s copy of it under node_modules/.cache/ (not a package's own src/).
  if (src && (!url.includes('/node_modules/') || url.includes('/node_modules/.cache/'))) return `cephgate src/${src[1]}`;
  const pkg = /\/node_modules\/((?:@[^/]+\/)?[^/.][^/]*)\//.exec(url);
  if (pkg) return PINO.has(pkg[1] as string) ? 'pino (access log)' : (pkg[1] as string);
  if (url.includes('/bench/')) return 'bench server code';
  if (url.startsWith('wasm://')) return 'wasm (undici HTTP parser)';
  if (url.startsWith('node:internal/stream_base_commons') || url === 'node:net') return 'node: sockets (incl. syscalls)';
  if (url.startsWith('node:_http')) return 'node: http';
  if (url.startsWith('node:internal/streams/') || url === 'node:stream') return 'node: streams';
  if (url.startsWith('node:internal/process/task_queues') || url.startsWith('node:internal/timers') || url === 'node:events')
    return 'node: events, ticks, timers';
  if (url === 'node:fs' || url.startsWith('node:internal/fs')) return 'node: fs';
  return 'node: other';
}

const SPECIAL: Record<string, string | null> = {
  '(idle)': null,
  '(root)': 'V8: other',
  '(program)': 'V8: program (outside JS)',
  '(garbage collector)': 'V8: garbage collection',
};

/** µs of self time per category over the whole profile (idle excluded), divided by `requests`. */
export function costPerRequest(profile: CpuProfile, requests: number): Map<string, number> {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  // A native frame (a builtin, a syscall wrapper such as writev) counts for the nearest caller with a URL.
  const categoryCache = new Map<number, string | null>();
  const categoryOf = (id: number): string | null => {
    const cached = categoryCache.get(id);
    if (cached !== undefined) return cached;
    const n = byId.get(id) as ProfileNode;
    const name = n.callFrame.functionName;
    let c: string | null;
    if (n.callFrame.url === '' && name in SPECIAL) c = SPECIAL[name] as string | null;
    else c = categoryOfUrl(n.callFrame.url) ?? (parent.has(id) ? categoryOf(parent.get(id) as number) : 'V8: other');
    categoryCache.set(id, c);
    return c;
  };
  const us = new Map<string, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const c = categoryOf(profile.samples[i] as number);
    if (c === null) continue;
    us.set(c, (us.get(c) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  const out = new Map<string, number>();
  for (const [c, t] of us) out.set(c, Math.round((t / requests) * 10) / 10);
  return out;
}
