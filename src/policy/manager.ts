// Keeps the active policy set: loads a directory, reloads on file change (debounced fs.watch) and on
// reload() (SIGHUP), swaps atomically, and keeps the last good set when an edit is broken.

import { type FSWatcher, watch } from 'node:fs';
import type { CompiledPolicy } from './engine.ts';
import { loadPolicyDir } from './files.ts';
import { PolicyLoadError, type PolicyLoadIssue, type PolicyLoadOptions } from './model.ts';

export interface PolicyManagerOptions extends PolicyLoadOptions {
  readonly dir: string;
  /** Watch the directory for changes. */
  readonly watch: boolean;
  readonly debounceMs?: number;
  /** A reload was rejected: the previous set stays active. */
  readonly onError?: (issues: readonly PolicyLoadIssue[]) => void;
  /** A new set became active. */
  readonly onReload?: (engine: CompiledPolicy, previousVersion: string) => void;
  /** A reload succeeded, whether or not the set changed (for the last-reload-success metric). */
  readonly onLoaded?: (engine: CompiledPolicy) => void;
}

export class PolicyManager {
  private active: CompiledPolicy;
  private watcher: FSWatcher | null = null;
  private timer: NodeJS.Timeout | null = null;

  /** Loads the directory once; throws PolicyLoadError when the initial set is invalid (refuse to start). */
  constructor(private readonly opts: PolicyManagerOptions) {
    const r = loadPolicyDir(opts.dir, opts);
    if (!r.ok) throw new PolicyLoadError(r.issues);
    this.active = r.engine;
    if (opts.watch) this.startWatch();
  }

  /** The active engine. Read it per request: a reload replaces it in one assignment. */
  get current(): CompiledPolicy {
    return this.active;
  }

  /** Loads again; returns true when a new set became active (an identical set also counts). */
  reload(): boolean {
    const r = loadPolicyDir(this.opts.dir, this.opts);
    if (!r.ok) {
      this.opts.onError?.(r.issues);
      return false;
    }
    const previous = this.active.version;
    this.active = r.engine;
    if (r.engine.version !== previous) this.opts.onReload?.(r.engine, previous);
    this.opts.onLoaded?.(r.engine);
    return true;
  }

  close(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.watcher?.close();
    this.watcher = null;
  }

  private startWatch(): void {
    // Editors write through temp files and renames: debounce so one save is one reload.
    this.watcher = watch(this.opts.dir, { persistent: false }, () => {
      if (this.timer !== null) clearTimeout(this.timer);
      this.timer = setTimeout(() => {
        this.timer = null;
        this.reload();
      }, this.opts.debounceMs ?? 200);
      this.timer.unref();
    });
    this.watcher.on('error', (err) => this.opts.onError?.([{ file: this.opts.dir, line: 1, ruleId: null, message: `watch failed: ${err.message}` }]));
  }
}
