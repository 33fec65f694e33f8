/**
 * One WASM runtime: the module, its memory and heap, the in-thread instance and, when threads
 * > 1, the worker pool. Kernel families (src/backends/wasm/) use it through `scope()`:
 *
 * ```ts ignore
 * await wasm.scope(async (s) => {
 *   const a = s.put(aData);               // copy in, get an offset
 *   const c = s.alloc(n * 4);             // uninitialised output
 *   await s.run(tasks(a, c));             // in-thread or across workers
 *   return s.f32(c, n).slice();           // copy out before the scope frees it
 * });
 * ```
 *
 * @module
 */
import { Heap } from "./_heap.ts";
import { Pool } from "./_pool.ts";
import { type Doorbell, SPIN_MS } from "./_doorbell.ts";
import type { Features } from "./_features.ts";
import { raiseTaskFailure, type StagedReply, type Task, taskFailure } from "./_task.ts";
import { tuneInstance } from "./_engine.ts";
import { pageTurnIfDue } from "../_abort.ts";

export type { Region, Task } from "./_task.ts";

/** Pool.finish() as a promise: settled at once where the lists rung are done. */
function finishRung(pool: Pool, rung: Doorbell[]): Promise<void> {
  try {
    return pool.finish(rung) ?? Promise.resolve();
  } catch (error) {
    return Promise.reject(error);
  }
}

/**
 * How long runSharing's caller polls for the workers after its own share before it sleeps:
 * waking costs it 0.1–0.9 ms on the test VMs, as much as a whole step of a tree fit.
 */
const CALLER_POLL_MS = 1;
/** Whether this is a web page's main thread (a window with a document), not a worker or server. */
const ON_PAGE = typeof (globalThis as { document?: unknown }).document !== "undefined";

/** How WasmRuntime.runSharing may deal a call. */
export interface SharingOptions {
  /**
   * Share on a page's main thread too. For the short, back-to-back steps of a fit: the page's
   * thread runs the fit between them anyway, and leaving each step to workers costs it two
   * thread wake-ups per step (a 200k × 28 XGBoost fit in Chromium gained 0.95–1.20× from a
   * second thread, once ran 2× as long, when its page's thread only waited; 1.17–1.65× now).
   */
  evenOnPage?: boolean;
  /**
   * How long (whole ms) the workers keep polling after this call's lists, when they came close
   * after the last ones (default SPIN_MS): for a long run of calls with stretches of this
   * thread's own work between them, as a fit's, so that a worker never has to be woken.
   */
  pollMs?: number;
  /**
   * Runs on this thread after its own share, before it waits for the workers (a call copies
   * out the rows it computed meanwhile); where the call does not split, after all of it.
   */
  afterOwn?: () => void;
  /**
   * Where memory is copied (a page without cross-origin isolation), this thread takes lane 0 as
   * well, in place, while the workers run the other lanes on their copies. Only for calls whose
   * lanes are short (see WasmRuntime.laneOnCopied): each worker's task then carries its inputs
   * and brings its outputs back, and this thread, which would otherwise only wait for them, does
   * a lane's work meanwhile.
   */
  copiedLane?: boolean;
  /**
   * Where memory is copied, hears each worker task's reply (see Pool.run): its time, and for a
   * task with `fresh` the fresh buffer holding its rows.
   */
  received?: (task: Task, reply: StagedReply) => void;
}

/**
 * At most this many flops (2^28) in a lane for a page's thread to take one of a call on copied
 * memory: ~8 ms of the plain build's kernels here, half a frame, against the whole call on one
 * thread. Longer calls leave the page's thread free while the workers compute.
 */
const COPIED_LANE_FLOPS = 2 ** 28;

/** The region reader of shared-memory runs, which copy nothing. */
function noCopies(): Uint8Array {
  throw new Error("runSharing: shared memory needs no copies");
}

/** Pages of 64 KiB (2 GiB); must equal MAXIMUM_PAGES in build.ts. */
export const MAXIMUM_PAGES = 32768;

type Kernel = (...args: number[]) => number | void;

/** Typed arrays that can be copied into WASM memory. */
export type HostArray = Float32Array | Float64Array | Int32Array | Uint32Array | Uint8Array;

export class WasmRuntime {
  readonly variant: string;
  readonly shared: boolean;
  readonly threads: number;
  /**
   * The host's hardware threads as the runtime found them (Features.hardwareConcurrency), at
   * most `threads` and at least 2 where there is a pool: a split call's lanes where memory is
   * copied (see lanes()).
   */
  readonly cores: number;
  readonly heap: Heap;
  readonly memory: WebAssembly.Memory;
  readonly #exports: Record<string, Kernel>;
  readonly #pool: Pool | null;
  /** When workersPolling was last asked (performance.now()). */
  #lastAsked = -Infinity;

  private constructor(
    variant: string,
    memory: WebAssembly.Memory,
    exports: Record<string, Kernel>,
    pool: Pool | null,
    maximumPages: number,
    hardwareConcurrency: number,
  ) {
    this.variant = variant;
    this.memory = memory;
    this.shared = variant.endsWith("-shared");
    this.#exports = exports;
    this.#pool = pool;
    this.threads = pool?.size ?? 1;
    this.cores = pool === null ? 1 : Math.max(2, Math.min(this.threads, hardwareConcurrency));
    this.heap = new Heap(memory, maximumPages);
  }

  /**
   * Instantiates `module` in-thread and, for threads > 1, in a pool of workers. `maximumPages`
   * (default MAXIMUM_PAGES) caps every memory of the runtime, the workers' private ones too;
   * tests lower it to reach the limits without allocating gigabytes.
   */
  static async create(opts: {
    module: WebAssembly.Module;
    variant: string;
    threads: number;
    features: Features;
    maximumPages?: number;
  }): Promise<WasmRuntime> {
    const shared = opts.variant.endsWith("-shared");
    const maximumPages = opts.maximumPages ?? MAXIMUM_PAGES;
    const memory = new WebAssembly.Memory({
      initial: Math.min(32, maximumPages),
      maximum: maximumPages,
      shared,
    });
    const instance = await WebAssembly.instantiate(opts.module, { env: { memory } });
    const pool = opts.threads > 1
      ? await Pool.start({
        size: opts.threads,
        features: opts.features,
        module: opts.module,
        memory: shared ? memory : null,
        maximumPages,
      })
      : null;
    const exports = instance.exports as Record<string, Kernel>;
    tuneInstance(exports);
    return new WasmRuntime(
      opts.variant,
      memory,
      exports,
      pool,
      maximumPages,
      opts.features.hardwareConcurrency,
    );
  }

  /**
   * Throws unless a call whose buffers take `bytes` (by argument name) can fit in WASM memory at
   * all: the check that comes before anything is allocated or copied.
   *
   * @throws {RangeError} Naming the largest argument, its size and the limit.
   */
  checkFits(bytes: Record<string, number>): void {
    const entries = Object.entries(bytes);
    // Each block is 64-byte aligned by the heap.
    const total = entries.reduce((sum, [, b]) => sum + Math.ceil(b / 64) * 64, 0);
    const capacity = this.heap.capacity;
    if (total <= capacity) return;
    const [name, largest] = entries.reduce((a, b) => (b[1] > a[1] ? b : a));
    throw new RangeError(
      `Expected "${name}" to fit in WASM memory (at most ${capacity} bytes) but the call needs ` +
        `${total} bytes, ${largest} of them for "${name}"; split the call or use backend "js"`,
    );
  }

  /** Where memory is copied: a view of a task's region, copied out before the task goes. */
  readonly #readRegion = (offset: number, bytes: number): Uint8Array =>
    new Uint8Array(this.memory.buffer, offset, bytes);

  /** Where memory is copied: a task's output region, written back when it arrives. */
  readonly #writeRegion = (offset: number, data: Uint8Array): void =>
    new Uint8Array(this.memory.buffer, offset).set(data);

  /** Calls a kernel in this thread; a trap is a WebAssembly.RuntimeError naming the kernel. */
  call(kernel: string, ...args: number[]): number {
    const fn = this.#exports[kernel];
    if (!fn) throw new Error(`Unknown WASM kernel "${kernel}"`);
    try {
      return fn(...args) as number;
    } catch (error) {
      throw raiseTaskFailure(taskFailure(error, kernel), "in this thread", error);
    }
  }

  /**
   * Runs tasks across the pool, or in order in this thread when there is none. `meanwhile` runs
   * in this thread once the workers have their lists (touching the output's pages, say).
   * `received`: see SharingOptions. Settles only once no task of the call runs any more, so
   * when it rejects the caller may free its buffers. On a page's own thread, a call run here
   * that waited on nothing settles after a turn of the page's event loop where one is due (see
   * pageTurnIfDue), as runSharing's do.
   */
  async run(
    tasks: Task[],
    meanwhile?: () => void,
    received?: SharingOptions["received"],
  ): Promise<void> {
    if (this.#pool === null || tasks.length <= 1) {
      for (const task of tasks) this.call(task.kernel, ...task.args);
      await pageTurnIfDue();
      return;
    }
    const done = this.#pool.run(
      tasks,
      this.#readRegion,
      this.#writeRegion,
      this.splitLanes(),
      undefined,
      received,
    );
    await this.#meanwhile(done, meanwhile);
    await done;
  }

  /**
   * How many workers have stopped by themselves since the runtime started (Pool.losses): a
   * caller that leaves data in the workers' private memories between calls checks it.
   */
  get workerLosses(): number {
    return this.#pool?.losses ?? 0;
  }

  /** Whether runSharing gives this thread a share (else it is {@link run}). */
  get sharing(): boolean {
    return this.sharingWith();
  }

  /**
   * Whether runSharing with `options` gives this thread a share: as {@link sharing}, but a
   * page's main thread too where `options.evenOnPage`.
   */
  sharingWith(options?: SharingOptions): boolean {
    if (this.#pool === null) return false;
    if (!this.shared) return options?.copiedLane === true;
    return !ON_PAGE || options?.evenOnPage === true;
  }

  /**
   * Whether a split call of `flops` should give this thread a lane where memory is copied
   * (`SharingOptions.copiedLane`): each of `threads` lanes at most COPIED_LANE_FLOPS. Such a
   * call splits into one task a lane, since a worker's next task could only be sent once this
   * thread's own lane is done.
   */
  laneOnCopied(flops: number): boolean {
    return !this.shared && this.#shortLanes(flops);
  }

  /**
   * Whether a split call of `flops` on shared memory, made from a page's main thread that will
   * be busy with it anyway (faulting in a fresh output's pages, see touchPages), should give
   * that thread a lane too (runSharing with `evenOnPage`): each of `threads` lanes at most
   * COPIED_LANE_FLOPS, as on copied memory. Elsewhere the caller always takes lane 0.
   */
  laneOnPage(flops: number): boolean {
    return this.shared && ON_PAGE && this.#shortLanes(flops);
  }

  /** Whether a split call of `flops` has lanes of at most COPIED_LANE_FLOPS (and a pool). */
  #shortLanes(flops: number): boolean {
    return this.#pool !== null && flops / this.splitLanes() <= COPIED_LANE_FLOPS;
  }

  /**
   * Runs shared-memory tasks in `threads` lanes, task i in lane i mod threads: this thread runs
   * lane 0 itself (after `meanwhile`), instead of sleeping through the workers' round trip, and
   * worker w lane w + 1. Each task must write only its own declared outputs, in place. Without
   * a pool, on a page's main thread (which must stay free for the page) unless
   * `options.evenOnPage`, and without shared memory unless `options.copiedLane` (then the
   * workers' tasks go as {@link run} sends them), this is {@link run}. Resolves to how long each
   * lane took, in ms, when the call split: this thread's first (its tasks and `meanwhile`), then
   * each worker's by its own clock (NaN where unknown); else to [].
   */
  async runSharing(
    tasks: Task[],
    meanwhile?: () => void,
    options?: SharingOptions,
  ): Promise<number[]> {
    if (!this.sharingWith(options) || tasks.length <= 1) {
      await this.run(tasks, meanwhile, options?.received);
      options?.afterOwn?.();
      return [];
    }
    const pool = this.#pool!, lanes = Math.min(this.lanes(), tasks.length);
    const theirs = tasks.filter((_, i) => i % lanes !== 0);
    // Idle workers on shared memory are rung outside the pool's chain of promises, so that a
    // call whose workers are done when this thread's share is goes on at once (Pool.ringNow).
    const rung = this.shared ? pool.ringNow(theirs, lanes - 1, options?.pollMs) : null;
    const done = rung !== null
      ? null
      : this.shared
      ? pool.run(theirs, noCopies, () => {}, lanes - 1, options?.pollMs)
      : pool.run(
        theirs,
        this.#readRegion,
        this.#writeRegion,
        lanes - 1,
        undefined,
        options?.received,
      );
    const start = performance.now();
    try {
      meanwhile?.();
      for (let i = 0; i < tasks.length; i += lanes) this.call(tasks[i].kernel, ...tasks[i].args);
      options?.afterOwn?.();
    } catch (error) {
      // The workers still write to this memory: wait for them before the caller frees it.
      await (rung !== null ? finishRung(pool, rung) : done!).catch(() => {});
      throw error;
    }
    const mine = performance.now() - start;
    // This thread's core is free now: poll for the workers' last µs rather than sleep.
    pool.pollDone(CALLER_POLL_MS);
    if (rung !== null) {
      const later = pool.finish(rung);
      if (later !== null) await later;
    } else await done;
    const lanesMs = [mine, ...Array.from({ length: lanes - 1 }, (_, w) => pool.lastRunMs(w))];
    // Where this was a page's thread and the workers were done when its lane was, nothing here
    // waited on a task: a loop of such calls would hold the page (no frame, click or timer).
    await pageTurnIfDue();
    return lanesMs;
  }

  /**
   * The lanes a call that cuts its own work (matmul, the attention family, the mixture) is cut
   * for: on shared memory every thread (claimed work or runSharing's dealing spreads the tasks
   * over the lanes of the moment), where memory is copied lanes().
   */
  splitLanes(): number {
    return this.shared ? this.threads : this.lanes();
  }

  /**
   * How many lanes a split call gets now (runSharing deals its tasks to them). On shared memory
   * every thread, or half of them (at least two) for a while after this thread's polls or a
   * worker's found the cores contended (Pool.contended: more threads than cores, or a busy
   * host), as a call's lanes then wait for each other's turns on the cores. Copied memory never
   * polls, so there a call takes a lane a thread up to the hardware threads the host reports
   * (`cores`): four threads on two cores had taken four lanes (Chromium, a plain page:
   * `sample()` 199–214 ms against 158–184 on two lanes). Shared memory does not trust that
   * count, which browsers' anti-fingerprinting modes may report lower than the cores: its polls
   * see the cores. Which lane runs a task never changes its results. A fit of 200k × 28 on four
   * threads over this host's two cores (Node 20) took 5.8–6.3 s, 2.4–3.6 s once the polls
   * stopped at contention, and 1.4–1.6 s with half the lanes as well (two threads 1.1–1.5 s). A
   * call that cuts its work into one task a lane by this count gives each lane one share: cut
   * for every thread, three tasks on two lanes left one lane two shares (a 100k × 28 fit on
   * three threads over two cores).
   */
  lanes(): number {
    if (this.#pool === null) return 1;
    // Copied memory never polls, so its lanes never change (a sampling run's resident lanes
    // count on that).
    if (!this.shared) return this.cores;
    return this.#pool.contended() ? Math.max(2, this.threads >> 1) : this.threads;
  }

  /** Runs `meanwhile`; if it throws, waits for `done` (the workers use this memory) first. */
  async #meanwhile(done: Promise<void>, meanwhile?: () => void): Promise<void> {
    try {
      meanwhile?.();
    } catch (error) {
      await done.catch(() => {});
      throw error;
    }
  }

  /**
   * Whether runSharing's next call of `tasks` tasks would find the workers it rings polling
   * (see Doorbell.polling): then even short work pays for splitting, as nobody waits for a
   * sleeping thread to wake. Always false where runSharing with `options` would give this
   * thread no share (see sharingWith): without shared memory, or on a page's main thread
   * unless `options.evenOnPage` (a fit's steps). When false and the last such question came
   * less than SPIN_MS ago, the workers are woken meanwhile (see Doorbell.prod): calls that come
   * close together find them polling from the third one or so on.
   */
  workersPolling(tasks: number, options?: SharingOptions): boolean {
    if (!this.sharingWith(options)) return false;
    // The workers that runSharing would ring (fewer while the cores are contended: a prodded
    // worker that then gets no list only spins).
    const workers = Math.min(tasks, this.lanes()) - 1;
    if (this.#pool!.polling(workers)) return true;
    // Only calls that come close together prod: waking costs an isolated call ~30 µs here.
    const now = performance.now(), close = now - this.#lastAsked < SPIN_MS;
    this.#lastAsked = now;
    if (close) this.#pool!.prod(workers);
    return false;
  }

  /** Runs `fn` with a scope whose allocations are all freed when it settles. */
  async scope<T>(fn: (scope: Scope) => Promise<T> | T): Promise<T> {
    const scope = new Scope(this);
    try {
      return await fn(scope);
    } finally {
      scope.release();
    }
  }

  /** Ends the workers; resolves once their threads are gone. */
  async dispose(): Promise<void> {
    await this.#pool?.terminate();
  }
}

/**
 * Writes one zero per 4 KiB page of `out`, whose contents are about to be overwritten: called
 * while the workers compute, it faults in a fresh output array's pages, which the copy out
 * would otherwise pay for after the workers are done, in the part of a call that does not split.
 * Returns how long that took, in ms.
 */
export function touchPages(out: Float32Array): number {
  const t0 = performance.now();
  for (let i = 0; i < out.length; i += 1024) out[i] = 0;
  return performance.now() - t0;
}

/** Allocations that live as long as one kernel-family call. */
export class Scope {
  readonly runtime: WasmRuntime;
  readonly #blocks: number[] = [];

  constructor(runtime: WasmRuntime) {
    this.runtime = runtime;
  }

  /** Allocates `bytes` bytes (64-byte aligned, contents undefined). */
  alloc(bytes: number): number {
    const ptr = this.runtime.heap.alloc(bytes);
    this.#blocks.push(ptr);
    return ptr;
  }

  /** Allocates and zero-fills `bytes` bytes. */
  zeros(bytes: number): number {
    const ptr = this.alloc(bytes);
    new Uint8Array(this.runtime.memory.buffer, ptr, bytes).fill(0);
    return ptr;
  }

  /** Copies `data` into fresh memory and returns its offset. */
  put(data: HostArray): number {
    const ptr = this.alloc(data.byteLength);
    new Uint8Array(this.runtime.memory.buffer, ptr, data.byteLength).set(
      new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
    );
    return ptr;
  }

  /** A Float32Array view of memory (invalidated by the next allocation; copy what you keep). */
  f32(ptr: number, length: number): Float32Array {
    return new Float32Array(this.runtime.memory.buffer, ptr, length);
  }

  /** A Float64Array view of memory. */
  f64(ptr: number, length: number): Float64Array {
    return new Float64Array(this.runtime.memory.buffer, ptr, length);
  }

  /** An Int32Array view of memory. */
  i32(ptr: number, length: number): Int32Array {
    return new Int32Array(this.runtime.memory.buffer, ptr, length);
  }

  /** A Uint8Array view of memory. */
  u8(ptr: number, length: number): Uint8Array {
    return new Uint8Array(this.runtime.memory.buffer, ptr, length);
  }

  /** Runs tasks (see WasmRuntime.run). */
  run(tasks: Task[], meanwhile?: () => void): Promise<void> {
    return this.runtime.run(tasks, meanwhile);
  }

  /** Runs tasks, this thread taking a share (see WasmRuntime.runSharing). */
  runSharing(tasks: Task[], meanwhile?: () => void, options?: SharingOptions): Promise<number[]> {
    return this.runtime.runSharing(tasks, meanwhile, options);
  }

  /** Frees every allocation of the scope. */
  release(): void {
    for (const ptr of this.#blocks.splice(0)) this.runtime.heap.free(ptr);
  }
}
