/**
 * The worker pool: N module workers, each with its own WASM instance, driven through comlink.
 * On shared memory a worker takes a list of tasks and runs them in place, rung through its
 * doorbell (_doorbell.ts: a futex word instead of a message) where the runtime can wait
 * asynchronously; elsewhere each task travels with copies of its input regions and sends its
 * output regions back, in one staging buffer per worker that goes to the worker and comes back
 * (transferred, never copied), so a call allocates no fresh memory once the buffers are big
 * enough (see `#staged`).
 *
 * Tasks are dealt round-robin in their given order, so which worker runs which task is fixed by
 * the task list alone; tasks write disjoint outputs, so results never depend on the pool size.
 *
 * A call settles only when none of its tasks can touch memory any more: when one share fails,
 * the call waits for the other shares (on copied memory they stop before their next task) and
 * only then rejects, so the caller may free or reuse its buffers at once. A worker that stops
 * by itself (killed by the host, out of memory, an uncaught error) fails the shares it held
 * once nothing can run on its doorbell any more: a list it had not taken is withdrawn, one it
 * runs is waited for where the host cannot stop a thread mid-task (Deno), or says nothing when
 * it has (browsers: a web worker holds a Web Lock for life, which the browser releases once its
 * thread is gone, e.g. when Chromium kills a terminated worker mid-list). A fresh worker, with
 * a doorbell of its own, takes its place on the next call. `terminate()` (dispose) lets running
 * calls finish first, for the same reason.
 *
 * Workers hold the process (Node, and Deno through its `node:worker_threads`) only while a
 * call has work on them, so a script that never calls `dispose()` still exits when it is done.
 *
 * @module
 */
import * as Comlink from "comlink";
import { contentions, Doorbell, doorbellSupported } from "./_doorbell.ts";
import { nodeEndpoint, type NodePort } from "./_endpoint.ts";
import { WORKER_SOURCE, workerUrl } from "./_assets.ts";
import type { Features } from "./_features.ts";
import { raiseTaskFailure, type StagedReply, type Task, type WorkerApi } from "./_task.ts";
import { importNode } from "./_node.ts";
import { locks } from "./_locks.ts";

/** One started worker thread, as the pool drives it. */
export interface PoolWorker {
  api: Comlink.Remote<WorkerApi>;
  /** Where task lists are rung on shared memory (absent: they go through comlink). */
  doorbell?: Doorbell;
  /**
   * Rejects once the worker has stopped, by itself or through `terminate()`; never resolves.
   * Where `stopsAtOnce` is false the thread may still finish the task it runs (Deno: its
   * `terminate()` lets running code go on; a web worker without Web Locks: no sign says when
   * its thread is gone).
   */
  lost: Promise<never>;
  /**
   * Rejects as soon as the worker is known to be ending (an uncaught error, `terminate()`), which
   * may be well before `lost` where the host lets a running task list go on: from then on the
   * pool gives it nothing new. Absent: `lost` is the first sign.
   */
  ending?: Promise<never>;
  /**
   * Whether no code runs on the thread any more once `lost` rejects (Node's worker_threads; web
   * workers where Web Locks exist).
   */
  stopsAtOnce: boolean;
  /** Whether this worker keeps the process alive (a no-op where the host has no such notion). */
  hold(on: boolean): void;
  /** Ends the worker; resolves when the host says its thread is gone. */
  terminate(): Promise<void>;
}

let blobUrl: string | null = null;
/** Web workers started, for unique lock names. */
let lockCount = 0;

// Captured at load: Emscripten-built peers (onnxruntime-web, tfjs threads) replace
// globalThis.Worker with Node's worker_threads class when they find `process` (as in Deno).
const WebWorker: typeof Worker | undefined = globalThis.Worker;

function stopped(detail: string, cause?: unknown): Error {
  return new Error(`A worker of the pool stopped ${detail}`, cause === undefined ? {} : { cause });
}

/** Starts one worker thread (not yet initialised). */
export async function spawnWorker(kind: "web" | "node"): Promise<PoolWorker> {
  if (kind === "node") {
    const { Worker } = await importNode("worker_threads");
    const url = WORKER_SOURCE !== null
      ? new URL(`data:text/javascript;base64,${btoa(unescape(encodeURIComponent(WORKER_SOURCE)))}`)
      : workerUrl()!;
    const worker = new Worker(url);
    let ending = false, failure: Error | undefined;
    // "exit" comes after "error" when the worker died of one; in Node once the thread no
    // longer runs, in Deno possibly while it finishes a task (see `stopsAtOnce`).
    const lost = new Promise<never>((_, reject) => {
      worker.on("error", (error: Error) => void (failure = error));
      worker.once("exit", (code: number) => {
        reject(
          ending
            ? stopped("(terminated)")
            : stopped(`(exit code ${code}${failure ? `: ${failure.message}` : ""})`, failure),
        );
      });
    });
    lost.catch(() => {});
    return {
      api: Comlink.wrap<WorkerApi>(nodeEndpoint(worker as unknown as NodePort)),
      lost,
      stopsAtOnce: !("Deno" in globalThis),
      hold: (on) => void (on ? worker.ref() : worker.unref()),
      terminate: async () => {
        ending = true;
        await worker.terminate();
      },
    };
  }
  let url: string | URL;
  if (WORKER_SOURCE !== null) {
    blobUrl ??= URL.createObjectURL(new Blob([WORKER_SOURCE], { type: "text/javascript" }));
    url = blobUrl;
  } else {
    url = workerUrl()!;
  }
  const worker = new WebWorker!(url, { type: "module" });
  const api = Comlink.wrap<WorkerApi>(worker);
  // A web worker says nothing when it ends; an uncaught error is the one sign of trouble. It
  // reaches this thread only after the worker's stack unwound, so no kernel runs there then.
  let reason: Error | null = null;
  let end!: (error: Error) => void;
  const ended = new Promise<never>((_, reject) => end = reject);
  ended.catch(() => {});
  const stop = (error: Error) => {
    reason ??= error;
    worker.terminate();
    end(reason);
  };
  worker.addEventListener("error", (event) => {
    event.preventDefault();
    stop(stopped(`(${event.message})`));
  });
  // Nor does terminate() say when the thread is gone: Chromium lets a running task list go on
  // for a while (about 2 s), then kills it mid-list. Where Web Locks exist (every page that can
  // share memory), the worker holds a lock for life that the host releases once its thread is
  // gone: `lost` waits for that, so nothing runs there any more when it rejects.
  const hostLocks = locks();
  const name = `tessera-worker-${++lockCount}-${Math.random().toString(36).slice(2)}`;
  let held = false;
  if (hostLocks !== null) {
    try {
      held = await Promise.race([api.holdLock(name), ended]);
    } catch (error) {
      api[Comlink.releaseProxy]();
      throw error;
    }
  }
  if (!held) {
    return {
      api,
      lost: ended,
      stopsAtOnce: false,
      hold: () => {},
      terminate: () => {
        stop(stopped("(terminated)"));
        return Promise.resolve();
      },
    };
  }
  const gone = hostLocks!.request(name, () => {});
  const lost = gone.then((): never => {
    throw reason ?? stopped("(it ended)");
  });
  lost.catch(() => {});
  return {
    api,
    lost,
    ending: ended,
    stopsAtOnce: true,
    hold: () => {},
    terminate: async () => {
      stop(stopped("(terminated)"));
      await gone;
    },
  };
}

/** How the pool starts a worker: spawn it, instantiate the module, listen on a doorbell. */
interface Launch {
  spawn: (kind: "web" | "node") => Promise<PoolWorker>;
  kind: "web" | "node";
  module: WebAssembly.Module;
  memory: WebAssembly.Memory | null;
  maximumPages: number;
}

async function launch(opts: Launch): Promise<PoolWorker> {
  const worker = await opts.spawn(opts.kind);
  try {
    await Promise.race([worker.api.init(opts.module, opts.memory, opts.maximumPages), worker.lost]);
    if (opts.memory !== null && doorbellSupported()) {
      const kernels = WebAssembly.Module.exports(opts.module)
        .filter((e) => e.kind === "function")
        .map((e) => e.name);
      const doorbell = new Doorbell(kernels);
      const port = doorbell.port;
      const listening = port === null
        ? worker.api.listen(doorbell.block, kernels)
        : worker.api.listen(doorbell.block, kernels, Comlink.transfer(port, [port]));
      await Promise.race([listening, worker.lost]);
      worker.doorbell = doorbell;
    }
  } catch (error) {
    await worker.terminate();
    throw error;
  }
  worker.hold(false);
  return worker;
}

/**
 * A task's error as comlink delivers it (a plain Error carrying the original's name) raised
 * again with its own kind: a trap is a WebAssembly.RuntimeError, memory that cannot grow a
 * RangeError, as on one thread.
 */
function fromWorker(error: unknown): unknown {
  if (!(error instanceof Error) || error.name === "Error") return error;
  const failure = { name: error.name, message: error.message };
  return raiseTaskFailure(failure, "in a worker of the pool", error);
}

/** Runs a task list on shared memory: through the doorbell where there is one, else comlink. */
async function runInPlace(worker: PoolWorker, list: Task[], pollMs?: number): Promise<void> {
  if (worker.doorbell) await worker.doorbell.run(list, pollMs);
  else await worker.api.run(list).catch((error) => Promise.reject(fromWorker(error)));
}

/** A place in the pool: the worker now in it (null: started again on the next call). */
interface Slot {
  worker: Promise<PoolWorker> | null;
  /** That worker once it has started, while it holds the slot: a share then starts at once. */
  ready: PoolWorker | null;
}

/**
 * A promise that never settles while all is well, which every share races against. Each
 * `Promise.race([work, gone])` left a reaction on `gone` until it settled, i.e. for the worker's
 * whole life: ~600 bytes kept per share (measured: the JS heap grew 1.2 MiB per 2,000 pooled
 * calls). Here a share's listener is dropped as soon as the share settles.
 */
class Tripwire {
  #tripped: { reason: unknown } | null = null;
  readonly #listeners = new Set<(reason: unknown) => void>();

  constructor(trigger: Promise<never>) {
    trigger.catch((reason) => {
      this.#tripped = { reason };
      for (const listener of this.#listeners) listener(reason);
      this.#listeners.clear();
    });
  }

  /** Settles as `work` does, or rejects once the trigger has rejected, whichever comes first. */
  race<T>(work: Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (this.#tripped !== null) reject(this.#tripped.reason);
      else this.#listeners.add(reject);
      work.then(resolve, reject).finally(() => this.#listeners.delete(reject));
    });
  }
}

/** Staging buffers are sized in steps of this many bytes at least. */
const STAGING_GRAIN = 1 << 16;

/**
 * The size of a new staging buffer for `need` bytes: rounded up to a quarter of its power of
 * two (at least STAGING_GRAIN), so that a lane whose share moves a little from call to call
 * (shares learnt from the lanes' timings) still finds room in the buffer it had. Rounded to
 * 64 KiB alone, the second worker's lane of a 1024³ product into a fresh array (a plain page
 * in Chromium) outgrew its buffer in about half the calls as its rows were learnt, and each
 * new 6–7 MiB buffer's page faults held the lane back ~20 ms.
 */
function stagingBytes(need: number): number {
  const grain = Math.max(STAGING_GRAIN, 2 ** (Math.floor(Math.log2(Math.max(need, 1))) - 2));
  return Math.ceil(Math.max(need, 1) / grain) * grain;
}
/** A staging buffer above this size is dropped after its task rather than kept for the next. */
const MAX_KEPT_STAGING_BYTES = 1 << 25;
/** How long calls go to fewer threads after a contention, at first and at most (ms). */
const CONTENDED_WINDOW_MS = 1000, MAX_CONTENDED_WINDOW_MS = 16000;

/** Staging buffers kept per worker (see `#staging`). */
const KEPT_STAGING_BUFFERS = 2;

export class Pool {
  readonly size: number;
  readonly #slots: Slot[];
  readonly #shared: boolean;
  readonly #launch: Launch;
  /** Shares of calls each worker runs now: it holds the process while this is above zero. */
  readonly #shares = new WeakMap<PoolWorker, number>();
  /**
   * Per worker: trips once it is lost and nothing can run on its doorbell any more (see
   * `#watch`); a share settles no earlier than this.
   */
  readonly #gone = new WeakMap<PoolWorker, Tripwire>();
  /** Shares running now, which terminate() lets finish. */
  readonly #running = new Set<Promise<void>>();
  /**
   * Per worker on copied memory: its staging buffers while no share has them (see `#staged`),
   * at most KEPT_STAGING_BUFFERS, the largest that came back: a caller may have a second task on
   * the way before the first comes back (WasmWorkspace's resident lanes).
   */
  readonly #staging = new WeakMap<PoolWorker, ArrayBuffer[]>();
  #terminated = false;
  /** This thread's contentions when contended() last looked, and the window it is in. */
  #contentions = contentions();
  #contendedUntil = -Infinity;
  #window = CONTENDED_WINDOW_MS;
  /** Workers that have stopped by themselves so far (see {@link losses}). */
  #losses = 0;

  private constructor(workers: PoolWorker[], launch: Launch) {
    this.size = workers.length;
    this.#shared = launch.memory !== null;
    this.#launch = launch;
    this.#slots = workers.map((worker) => ({ worker: Promise.resolve(worker), ready: worker }));
    workers.forEach((worker, w) => this.#watch(w, worker));
  }

  /**
   * Starts `size` workers and instantiates `module` in each. `spawn` replaces how a worker
   * thread is started (tests use it to reach the threads they stop).
   */
  static async start(opts: {
    size: number;
    features: Features;
    module: WebAssembly.Module;
    memory: WebAssembly.Memory | null;
    maximumPages: number;
    spawn?: (kind: "web" | "node") => Promise<PoolWorker>;
  }): Promise<Pool> {
    const how: Launch = {
      spawn: opts.spawn ?? spawnWorker,
      kind: opts.features.workers!,
      module: opts.module,
      memory: opts.memory,
      maximumPages: opts.maximumPages,
    };
    const started = await Promise.allSettled(Array.from({ length: opts.size }, () => launch(how)));
    const workers = started.flatMap((s) => s.status === "fulfilled" ? [s.value] : []);
    const failed = started.find((s) => s.status === "rejected");
    if (failed) {
      await Promise.all(workers.map((w) => w.terminate()));
      throw failed.reason;
    }
    return new Pool(workers, how);
  }

  /**
   * Runs the tasks across the first `workers` workers (task i on worker i mod workers) and
   * settles once every share has finished or stopped. Where memory is not shared, `read` gives
   * a view of a region of the caller's memory (copied out before the task goes) and `write`
   * copies a task's output region back (`data` is valid during the call only), and `received`
   * hears each task's reply (where the task has `fresh`, after its other outputs are written).
   * `pollMs`: see Doorbell.run.
   *
   * @throws The first failing share's error, in worker order, once no share runs any more.
   */
  async run(
    tasks: Task[],
    read: (offset: number, bytes: number) => Uint8Array,
    write: (offset: number, data: Uint8Array) => void,
    workers = this.size,
    pollMs?: number,
    received?: (task: Task, reply: StagedReply) => void,
  ): Promise<void> {
    const n = Math.min(workers, this.size);
    const shares: Promise<void>[] = [];
    // Set when the call gives up: copied shares stop before their next task and write nothing.
    const call = { over: false };
    if (this.#shared) {
      for (let w = 0; w < n && w < tasks.length; w++) {
        const list = tasks.filter((_, i) => i % n === w);
        shares.push(this.#share(w, (worker) => runInPlace(worker, list, pollMs)));
      }
    } else {
      for (let w = 0; w < n && w < tasks.length; w++) {
        shares.push(
          this.#share(w, async (worker) => {
            for (let i = w; i < tasks.length && !call.over; i += n) {
              const task = tasks[i];
              const staging = this.#staged(worker, task, read);
              const reply = await worker.api.runStaged(task, Comlink.transfer(staging, [staging]))
                .catch((error) => Promise.reject(fromWorker(error)));
              const back = reply.back;
              if (!call.over) {
                let at = 0;
                const outputs = task.outputs ?? [];
                for (const [offset, bytes] of reply.fresh ? outputs.slice(1) : outputs) {
                  write(offset, new Uint8Array(back, at, bytes));
                  at += bytes;
                }
                received?.(task, reply);
              }
              if (back.byteLength <= MAX_KEPT_STAGING_BYTES) this.#keep(worker, back);
            }
          }).catch((error) => {
            call.over = true;
            throw error;
          }),
        );
      }
    }
    const settled = await Promise.allSettled(shares);
    call.over = true;
    const failed = settled.find((s) => s.status === "rejected");
    if (failed) throw failed.reason;
  }

  /**
   * Rings the first `workers` workers with `tasks` at once (dealt as run() deals them, each
   * worker's list through Doorbell.ringNow), where memory is shared and every one of them is
   * started, idle and fits its list in one block; null (nothing rung) otherwise, and the
   * caller uses run(). The caller then ends the call with finish().
   */
  ringNow(tasks: Task[], workers = this.size, pollMs?: number): Doorbell[] | null {
    if (!this.#shared || this.#terminated) return null;
    const n = Math.min(workers, this.size, tasks.length);
    const lists: Task[][] = [], doorbells: Doorbell[] = [];
    for (let w = 0; w < n; w++) {
      const slot = this.#slots[w], doorbell = slot.ready?.doorbell;
      const list = tasks.filter((_, i) => i % n === w);
      if (slot.worker === null || !doorbell?.canRingNow(list)) return null;
      lists.push(list);
      doorbells.push(doorbell);
    }
    doorbells.forEach((doorbell, w) => doorbell.ringNow(lists[w], pollMs));
    return doorbells;
  }

  /**
   * Ends a call rung by ringNow(): null where every list is done (finished here; the first
   * failure thrown once all are finished), else a promise that settles as run()'s would, the
   * lists not yet done waited for as shares of the pool (terminate() lets them finish).
   */
  finish(doorbells: Doorbell[]): Promise<void> | null {
    const pending: number[] = [];
    let failure: { error: unknown } | null = null;
    for (let w = 0; w < doorbells.length; w++) {
      try {
        if (!doorbells[w].finishNow()) pending.push(w);
      } catch (error) {
        failure ??= { error };
      }
    }
    if (pending.length === 0) {
      if (failure !== null) throw failure.error;
      return null;
    }
    const shares = pending.map((w) => this.#share(w, () => doorbells[w].finishLater()));
    return Promise.allSettled(shares).then((settled) => {
      if (failure !== null) throw failure.error;
      const failed = settled.find((s) => s.status === "rejected");
      if (failed) throw failed.reason;
    });
  }

  /** `worker`'s kept staging buffers (see `#staging`). */
  #kept(worker: PoolWorker): ArrayBuffer[] {
    let kept = this.#staging.get(worker);
    if (kept === undefined) this.#staging.set(worker, kept = []);
    return kept;
  }

  /** Keeps `buffer` for `worker`'s next task, in place of a smaller one where it has enough. */
  #keep(worker: PoolWorker, buffer: ArrayBuffer): void {
    const kept = this.#kept(worker);
    if (kept.length < KEPT_STAGING_BUFFERS) {
      kept.push(buffer);
      return;
    }
    let smallest = 0;
    for (let i = 1; i < kept.length; i++) {
      if (kept[i].byteLength < kept[smallest].byteLength) smallest = i;
    }
    if (kept[smallest].byteLength < buffer.byteLength) kept[smallest] = buffer;
  }

  /** The smallest of `worker`'s kept staging buffers of at least `bytes`, taken; else undefined. */
  #take(worker: PoolWorker, bytes: number): ArrayBuffer | undefined {
    const kept = this.#kept(worker);
    let best = -1;
    for (let i = 0; i < kept.length; i++) {
      if (kept[i].byteLength >= bytes && (best < 0 || kept[i].byteLength < kept[best].byteLength)) {
        best = i;
      }
    }
    return best < 0 ? undefined : kept.splice(best, 1)[0];
  }

  /**
   * `task`'s input regions, read one after the other into a staging buffer of `worker`'s (the
   * smallest kept one large enough for the inputs and the outputs), which the caller takes (two
   * shares on one worker never hold the same buffer) and the worker returns with the outputs in
   * it. Where none is large enough a larger one is made, the only time a copied call allocates:
   * every fresh buffer's pages fault in when first written (a 1 MiB slice per task took ~3 ms of
   * faults on the test VMs, as long as a 512³ product's own arithmetic on two threads).
   */
  #staged(
    worker: PoolWorker,
    task: Task,
    read: (offset: number, bytes: number) => Uint8Array,
  ): ArrayBuffer {
    const sum = (regions?: readonly (readonly [number, number])[]) =>
      (regions ?? []).reduce((total, [, bytes]) => total + bytes, 0);
    const need = Math.max(sum(task.inputs), sum(task.outputs));
    const staging = this.#take(worker, need) ??
      new ArrayBuffer(stagingBytes(need));
    let at = 0;
    for (const [offset, bytes] of task.inputs ?? []) {
      new Uint8Array(staging, at, bytes).set(read(offset, bytes));
      at += bytes;
    }
    return staging;
  }

  /**
   * How many workers have stopped by themselves since the pool started. On copied memory, data
   * a caller left in a worker's private memory between calls (WasmWorkspace's resident lanes)
   * is gone once this changes: the replacement starts empty.
   */
  get losses(): number {
    return this.#losses;
  }

  /**
   * Polls the started workers' doorbells until each has finished the last list rung to it, or
   * for at most `ms` milliseconds (see Doorbell.pollDone); returns at once without doorbells.
   */
  pollDone(ms: number): void {
    const until = performance.now() + ms;
    for (const slot of this.#slots) slot.ready?.doorbell?.pollDone(until);
  }

  /** How long worker w took to run its last list through its doorbell, in ms (NaN: none). */
  lastRunMs(w: number): number {
    return this.#slots[w]?.ready?.doorbell?.lastRunMs() ?? NaN;
  }

  /** Wakes the first `count` workers where they are started, idle and asleep (Doorbell.prod). */
  prod(count: number): void {
    for (let w = 0; w < count && w < this.size; w++) this.#slots[w].ready?.doorbell?.prod();
  }

  /**
   * Whether calls had better go to fewer threads now: for a while (CONTENDED_WINDOW_MS, doubling
   * up to MAX_CONTENDED_WINDOW_MS while it recurs) after this thread's polls or a worker's found
   * the cores contended (see contentions and Doorbell.contended). With fewer threads at work
   * their polls keep their cores; when the window ends, all threads go back to work, and a
   * contention that has not passed begins a longer window.
   */
  contended(now: number = performance.now()): boolean {
    const count = contentions();
    let seen = count !== this.#contentions;
    this.#contentions = count;
    for (const slot of this.#slots) seen = slot.ready?.doorbell?.contended() === true || seen;
    if (seen) {
      // A contention soon after the last window recurs: the next window is longer.
      const recurs = now < this.#contendedUntil + this.#window;
      this.#window = recurs
        ? Math.min(MAX_CONTENDED_WINDOW_MS, 2 * this.#window)
        : CONTENDED_WINDOW_MS;
      this.#contendedUntil = now + this.#window;
    }
    return now < this.#contendedUntil;
  }

  /** Whether the first `count` workers are started, idle and polling (see Doorbell.polling). */
  polling(count: number): boolean {
    for (let w = 0; w < count; w++) {
      if (!this.#slots[w].ready?.doorbell?.polling()) return false;
    }
    return count <= this.size;
  }

  /**
   * Ends every worker once the calls running on them are done (not every host can stop a
   * thread in the middle of a task); later calls reject.
   */
  async terminate(): Promise<void> {
    this.#terminated = true;
    await Promise.allSettled(this.#running);
    await Promise.all(this.#slots.map(async (slot) => {
      const worker = await slot.worker?.catch(() => null);
      slot.worker = null;
      slot.ready = null;
      if (!worker) return;
      worker.doorbell?.stop();
      await worker.terminate();
      worker.api[Comlink.releaseProxy]();
    }));
  }

  /**
   * Runs one share on slot `w`'s worker, holding the process meanwhile; rejects as soon as that
   * worker's thread is gone (it can then no longer touch memory).
   */
  #share(w: number, fn: (worker: PoolWorker) => Promise<void>): Promise<void> {
    if (this.#terminated) return Promise.reject(new Error("The worker pool was disposed"));
    const share = this.#runShare(w, fn);
    this.#running.add(share);
    const forget = () => void this.#running.delete(share);
    share.then(forget, forget);
    return share;
  }

  async #runShare(w: number, fn: (worker: PoolWorker) => Promise<void>): Promise<void> {
    const slot = this.#slots[w];
    // A started worker is rung in this turn, without an await first: the caller's own share
    // (WasmRuntime.runSharing) runs right after this returns, and the worker must be busy
    // meanwhile, not waiting for that share to end before it even gets its list.
    const worker = slot.ready !== null && slot.worker !== null
      ? slot.ready
      : await (slot.worker ??= this.#replace(w));
    const shares = this.#shares.get(worker) ?? 0;
    this.#shares.set(worker, shares + 1);
    if (shares === 0) worker.hold(true);
    try {
      await this.#gone.get(worker)!.race(fn(worker));
    } finally {
      const left = this.#shares.get(worker)! - 1;
      this.#shares.set(worker, left);
      if (left === 0) worker.hold(false);
    }
  }

  /** Starts a worker for slot `w`; on failure the next call tries again. */
  #replace(w: number): Promise<PoolWorker> {
    const slot = this.#slots[w];
    const started = launch(this.#launch).then((worker) => {
      if (this.#terminated) {
        void worker.terminate();
        throw new Error("The worker pool was disposed");
      }
      this.#watch(w, worker);
      if (slot.worker === started) slot.ready = worker;
      return worker;
    });
    started.catch(() => {
      if (slot.worker === started) slot.worker = null;
    });
    return started;
  }

  /**
   * When `worker` stops by itself its slot is emptied (the next call starts a replacement,
   * with a block of its own), and its shares fail once its doorbell is quiet: a list it had
   * not taken is withdrawn, one it runs is waited for where the thread may still be running.
   */
  #watch(w: number, worker: PoolWorker): void {
    const slot = this.#slots[w];
    const current = slot.worker;
    const vacate = () => {
      if (slot.ready === worker || slot.worker === current) this.#losses++;
      if (slot.worker === current && !this.#terminated) slot.worker = null;
      if (slot.ready === worker) slot.ready = null;
    };
    worker.ending?.catch(vacate);
    const gone = worker.lost.catch(async (error) => {
      vacate();
      await worker.doorbell?.abandon(worker.stopsAtOnce);
      throw error;
    });
    this.#gone.set(worker, new Tripwire(gone));
  }
}
