/**
 * The `diffusion` kernel family on the WASM runtime (assembly/diffusion.ts). A sampling run's
 * state stays in WASM memory (see WasmWorkspace); step updates are memory-bound and run on it in
 * this thread, synchronously; the Gaussian fill and the mixture kernels are dealt to the workers
 * by rows for large batches. Every row is computed the same way whatever range it falls in, so
 * results are bit-identical for any thread count.
 *
 * @module
 */
import type { Region, SharingOptions, Task, WasmRuntime } from "../../runtime/_wasm.ts";
import { isLent, lendView } from "../../runtime/_lent.ts";
import {
  type DiffusionKernels,
  type DiffusionWorkspace,
  type Finite,
  type MixtureArgs,
  type MixtureTables,
  NONE,
  nonFiniteOutput,
  stateOverflow,
  type WorkspaceOptions,
} from "../diffusion.ts";

/**
 * Below this much work (≈ multiply-adds; 2^25 is 16,384 rows of 64 dims and 8 components) one
 * task, unless the workers are polling (see WasmRuntime.workersPolling). Measured (Deno,
 * `GaussianMixture.denoiser`, 2 threads / 1): isolated calls 10 ms apart, whose worker must be
 * woken first, ran split at 0.55–0.79× up to 4,096 rows and 0.88–1.02× at 8,192.
 */
const MIN_PARALLEL_WORK = 1 << 25;
/**
 * From this much work (256 rows of 64 dims and 8 components) a call splits when the workers are
 * polling: back-to-back calls (a sampler's) then ran at 1.1–1.3× (64 rows), 1.5–2.2× (1,024)
 * and 1.6–2.4× (4,096) on 2 threads; calls come close together and the workers stay awake.
 */
const MIN_PARALLEL_WORK_POLLING = 1 << 19;

/**
 * Work per value of a step update, in rowRanges' units: a step splits from 131,072 values (2,048
 * rows of 64) while the workers poll, as they do between a sampling run's split denoiser calls,
 * and from 8M values always. Split by the mixture's rows, each thread updates the rows it has
 * just denoised and denoises next: they stay in its cache (see WasmWorkspace). Measured (Deno,
 * 2 threads, Euler, one step beyond the denoiser): 2,048 rows 198–220 µs split against 218–225
 * unsplit; 1,024 rows 123–148 against 123–140, level, so they stay in one task.
 */
const STEP_WORK_PER_VALUE = 4;

/**
 * How a sampling run's own calls are dealt: a run holds the calling thread between its calls
 * anyway (its step logic, its updates), so on a page's main thread too this thread takes a
 * share of each (as a fit's steps do), where the workers would otherwise run the call while it
 * waits for them to wake. The workspace's step updates run on shared memory only (their tasks
 * list no regions).
 */
const RUN_STEP: SharingOptions = { evenOnPage: true };
/**
 * A mixture call on a run's own buffers (x a workspace view) takes this thread's share on a page
 * too, copied memory included, while a share is at most this much work (rowRanges' units; ~5 ms
 * of the kernel here, a third of a frame): 65,536 rows of 64 dims and 8 components on 2 threads.
 * Chromium, Heun, 20 steps, 32,768 × 64, two threads: an isolated page 200–212 ms with the page
 * waiting, 147–157 taking its share (one thread 241–248); a plain page 284–286 → 206–218 (one
 * thread 241–252).
 */
const RUN_LANE_WORK = 2 ** 26;
/** How such a call is dealt, and every call on a resident workspace's lanes (WasmWorkspace). */
const RUN_MIXTURE: SharingOptions = { evenOnPage: true, copiedLane: true };
/** The views of its buffers a workspace has handed out (WasmWorkspace.view). */
const runViews = new WeakSet<Float32Array>();

/**
 * Row ranges for the tasks of one call: for large work, one per thread where this thread takes
 * a share (the first: see WasmRuntime.runSharing) or memory is shared, else ~2 per worker; for
 * small work one. `options`: how the call will be dealt (runSharing's).
 */
function rowRanges(
  runtime: WasmRuntime,
  batch: number,
  work: number,
  options?: SharingOptions,
): [number, number][] {
  // The lanes a split call gets now (fewer while the cores are contended): one range a lane.
  const threads = runtime.lanes();
  if (threads === 1 || batch < 2) return [[0, batch]];
  if (
    work < MIN_PARALLEL_WORK &&
    !(work >= MIN_PARALLEL_WORK_POLLING && runtime.workersPolling(threads, options))
  ) {
    return [[0, batch]];
  }
  const perThread = runtime.shared || runtime.sharingWith(options);
  return splitRows(batch, Math.min(batch, perThread ? threads : threads * 2));
}

/** Rows [0, batch) in ranges of ⌈batch / parts⌉ rows (the last shorter; fewer where few rows). */
function splitRows(batch: number, parts: number): [number, number][] {
  const step = Math.ceil(batch / parts), ranges: [number, number][] = [];
  for (let r0 = 0; r0 < batch; r0 += step) ranges.push([r0, Math.min(batch, r0 + step)]);
  return ranges;
}

/**
 * One mixture call's block of WASM memory: the per-σ tables of assembly/diffusion.ts's mixture
 * kernel, the tasks' scratch, and x and out where the caller's arrays are not this memory.
 * Offsets are byte offsets from the block's start, each 64-byte aligned.
 *
 *   [means][precision][offset][slope][logNorm][scratch × tasks][x?][out?]
 *    ↑ components × dim f32 each     ↑ components f32
 */
interface MixtureLayout {
  means: number;
  precision: number;
  offset: number;
  slope: number;
  logNorm: number;
  scratch: number;
  scratchBytes: number;
  x: number;
  out: number;
  bytes: number;
}

const align64 = (bytes: number) => Math.ceil(bytes / 64) * 64;

function mixtureLayout(
  args: MixtureTables & { batch: number },
  tasks: number,
  copyX: boolean,
  copyOut: boolean,
): MixtureLayout {
  const table = align64(args.components * args.dim * 4), n = args.batch * args.dim;
  const scratchBytes = mixtureScratchBytes(args.components);
  const logNorm = 4 * table, scratch = logNorm + align64(args.components * 4);
  const x = scratch + tasks * scratchBytes;
  const out = x + (copyX ? align64(n * 4) : 0);
  const bytes = out + (copyOut ? n * 4 : 0);
  return {
    means: 0,
    precision: table,
    offset: 2 * table,
    slope: 3 * table,
    logNorm,
    scratch,
    scratchBytes,
    x,
    out,
    bytes,
  };
}

/** Float64 scratch of writeMixtureTables, kept between calls (the tables are written at once). */
let logNormScratch = new Float64Array(16);

/**
 * Writes the means and the per-σ tables of the mixture kernel into `f32` (a view of WASM memory)
 * at block `at`: precision, and the offset and slope that make both outputs
 * `Σ_k r_k (offset_k + slope_k·x)`. Every entry is computed in float64 and rounded once.
 */
function writeMixtureTables(
  f32: Float32Array,
  at: number,
  layout: MixtureLayout,
  args: MixtureTables,
) {
  const { sigma, means, variances, logWeights, dim, components } = args;
  const wantScore = args.output === "score", table = components * dim, s2 = sigma * sigma;
  const mean = (at + layout.means) >> 2, precision = (at + layout.precision) >> 2;
  const offset = (at + layout.offset) >> 2, slope = (at + layout.slope) >> 2;
  if (logNormScratch.length < components) logNormScratch = new Float64Array(components);
  const logNorm = logNormScratch;
  f32.set(means.length === table ? means : means.subarray(0, table), mean);
  for (let k = 0; k < components; k++) {
    let logDet = 0;
    for (let j = 0; j < dim; j++) {
      const i = k * dim + j, v = variances[i] + s2, p = 1 / v;
      f32[precision + i] = p;
      f32[offset + i] = wantScore ? means[i] * p : means[i] * s2 * p;
      f32[slope + i] = wantScore ? -p : variances[i] * p;
      logDet += Math.log(2 * Math.PI * v);
    }
    logNorm[k] = logWeights[k] - 0.5 * logDet;
  }
  // Only differences of log p between components matter; centring keeps the float32 log p of a
  // row small (at large σ each log-determinant is in the hundreds, and so would be its rounding).
  let top = -Infinity;
  for (let k = 0; k < components; k++) if (logNorm[k] > top) top = logNorm[k];
  const shift = Number.isFinite(top) ? top : 0;
  const norm = (at + layout.logNorm) >> 2;
  for (let k = 0; k < components; k++) f32[norm + k] = logNorm[k] - shift;
}

/**
 * Scratch bytes per task of the mixture kernel: logp f32s, splatted r_k v128s, row offsets, in
 * whole 4 KiB pages, so that no two lanes write their rows' scratch within a page of each other.
 * With 192 bytes a task (64-byte lines, none shared), two lanes ran the dense sums (σ = 20, every
 * component counting) at 1.19–1.27× one lane's speed and the listed ones (σ = 0.2) at 1.86×;
 * padded to 128 or 256 bytes 1.3×, to 512 0.95–1.5×, to 1 KiB or 4 KiB 1.77–1.95× (Deno, Intel
 * Sapphire Rapids, 4,096 × 64 with x and the result in WASM memory already).
 */
function mixtureScratchBytes(components: number): number {
  const bytes = Math.ceil((components * 4) / 16) * 16 + components * 16 + components * 4;
  return Math.ceil(bytes / 4096) * 4096;
}

/**
 * The mixture kernel's arguments for rows [r0, r1): block `at` laid out as `layout`, x and out
 * at byte offsets `x` and `out`, scratch of task `t`.
 */
function mixtureKernelArgs(
  at: number,
  layout: MixtureLayout,
  x: number,
  out: number,
  args: MixtureTables,
  [r0, r1]: [number, number],
  t: number,
): number[] {
  return [
    out,
    x,
    at + layout.means,
    at + layout.precision,
    at + layout.offset,
    at + layout.slope,
    at + layout.logNorm,
    at + layout.scratch + t * layout.scratchBytes,
    args.dim,
    args.components,
    r0,
    r1,
  ];
}

/**
 * The mixture kernel on `runtime`. Small calls (one task) run here synchronously on one block
 * of WASM memory, written in place through a cached view: a sampler calls the denoiser at every
 * step, and per-call garbage (typed arrays, task lists, promises) is what made the young
 * generation of a long run grow. Large calls are dealt to the workers by rows.
 */
class WasmMixture {
  readonly #runtime: WasmRuntime;
  /** A view of all of WASM memory, renewed when the memory's buffer changes (it grew). */
  #f32: Float32Array | null = null;

  constructor(runtime: WasmRuntime) {
    this.#runtime = runtime;
  }

  run(args: MixtureArgs): void | Promise<void> {
    const { batch, dim, components } = args, n = batch * dim;
    if (n === 0) return;
    const work = n * components * 4;
    // A call on a sampling run's own buffers is one step of that run (see RUN_MIXTURE).
    const runtime = this.#runtime, lanes = runtime.splitLanes();
    const options = (runViews.has(args.x) || isLent(args.x)) && work / lanes <= RUN_LANE_WORK
      ? RUN_MIXTURE
      : undefined;
    const ranges = rowRanges(runtime, batch, work, options);
    // Views of this memory (workspace buffers lent by a sampler) are read and written in place.
    const memory = runtime.memory.buffer;
    const xHere = args.x.buffer === memory, outHere = args.out.buffer === memory;
    const layout = mixtureLayout(args, ranges.length, !xHere, !outHere);
    // Before anything is allocated: x and the output where they are copied, then the tables.
    runtime.checkFits({ x: xHere ? 0 : n * 4, output: outHere ? 0 : n * 4, means: layout.x });
    const xAt = xHere ? args.x.byteOffset : null, outAt = outHere ? args.out.byteOffset : null;
    if (ranges.length === 1) return this.#inThread(args, layout, xAt, outAt);
    return this.#pooled(args, layout, xAt, outAt, ranges, options);
  }

  #view(): Float32Array {
    const buffer = this.#runtime.memory.buffer;
    if (this.#f32 === null || this.#f32.buffer !== buffer) this.#f32 = new Float32Array(buffer);
    return this.#f32;
  }

  /**
   * Writes the tables into the block at `at`; returns the byte offsets of x and out: `xAt` and
   * `outAt` where they lie in this memory already, else their places in the block (x is not
   * copied yet).
   */
  #place(
    args: MixtureArgs,
    layout: MixtureLayout,
    at: number,
    xAt: number | null,
    outAt: number | null,
  ) {
    writeMixtureTables(this.#view(), at, layout, args);
    return { x: xAt ?? at + layout.x, out: outAt ?? at + layout.out };
  }

  #inThread(
    args: MixtureArgs,
    layout: MixtureLayout,
    xAt: number | null,
    outAt: number | null,
  ): void {
    const runtime = this.#runtime, n = args.batch * args.dim;
    const at = runtime.heap.alloc(layout.bytes);
    try {
      const { x, out } = this.#place(args, layout, at, xAt, outAt);
      if (xAt === null) this.#view().set(args.x.subarray(0, n), x >> 2);
      runtime.call(
        "diffusion_gmm_f32",
        ...mixtureKernelArgs(at, layout, x, out, args, [0, args.batch], 0),
      );
      if (outAt === null) args.out.set(this.#view().subarray(out >> 2, (out >> 2) + n));
    } finally {
      runtime.heap.free(at);
    }
  }

  /**
   * A call dealt by rows. Where this thread takes a share (lane 0: tasks 0, lanes, 2·lanes, …),
   * x is copied in for the workers' rows before they are rung and for its own rows while they
   * run, and its own rows are copied out before it waits for theirs: only the workers' halves
   * of the copies stay outside the part that splits (2–4% off a 4,096 × 64 call on 2 threads,
   * Deno). The workers' half of x is the dear one (~0.06 ms against ~0.015 for this thread's
   * half): the worker read those lines last call, so each write must take them from its cache.
   * Splitting the rows as learnt from the lanes' timings (LaneBalance) gained nothing here.
   */
  async #pooled(
    args: MixtureArgs,
    layout: MixtureLayout,
    xAt: number | null,
    outAt: number | null,
    ranges: [number, number][],
    options: SharingOptions | undefined,
  ): Promise<void> {
    const runtime = this.#runtime, dim = args.dim;
    const lanes = runtime.sharingWith(options) ? Math.min(runtime.splitLanes(), ranges.length) : 0;
    // A sampling run's steps (RUN_MIXTURE) keep each lane's rows on it (see #pooled): claims
    // would move them between cores.
    if (lanes > 1 && runtime.shared && options === undefined) {
      return this.#claimed(args, layout, xAt, outAt, ranges.length);
    }
    const mine = (t: number) => lanes > 1 && t % lanes === 0;
    await runtime.scope(async (s) => {
      const at = s.alloc(layout.bytes);
      const { x, out } = this.#place(args, layout, at, xAt, outAt);
      /** Copies x in (or the output out) for this thread's rows (`own`) or the workers'. */
      const copy = (direction: "in" | "out", own: boolean) => {
        if ((direction === "in" ? xAt : outAt) !== null) return;
        const f32 = this.#view();
        ranges.forEach(([r0, r1], t) => {
          if (mine(t) !== own) return;
          if (direction === "in") f32.set(args.x.subarray(r0 * dim, r1 * dim), (x >> 2) + r0 * dim);
          else args.out.set(f32.subarray((out >> 2) + r0 * dim, (out >> 2) + r1 * dim), r0 * dim);
        });
      };
      copy("in", false);
      const tasks: Task[] = ranges.map(([r0, r1], t) => ({
        kernel: "diffusion_gmm_f32",
        args: mixtureKernelArgs(at, layout, x, out, args, [r0, r1], t),
        inputs: [
          [x + r0 * dim * 4, (r1 - r0) * dim * 4],
          [at, layout.scratch],
        ],
        outputs: [[out + r0 * dim * 4, (r1 - r0) * dim * 4]],
        scratch: [[at + layout.scratch + t * layout.scratchBytes, layout.scratchBytes]],
      }));
      const afterOwn = () => copy("out", true);
      await runtime.runSharing(tasks, () => copy("in", true), { ...options, afterOwn });
      copy("out", false);
    });
  }

  /**
   * #pooled on shared memory where this thread takes a lane: the lanes claim chunks of
   * CLAIM_ROWS rows as they go (diffusion_gmm_claimed_f32), so that a faster lane takes more,
   * while this thread copies x in ahead of them, COPY_ROWS at a time, and then the results out
   * chunk by chunk as they are done. The copies, which only this thread can make (the caller's
   * arrays), overlap the workers' rows instead of standing before and after them. Deno, two
   * threads against fixed halves with each thread copying its own (σ = 0.2, three rounds in one
   * process): 4,096 × 64 into `info.out` 0.503–0.533 → 0.477–0.493 ms (one thread 0.78–0.80),
   * 65,536 × 64 9.98–10.12 → 8.17–8.79 ms into `info.out` and 12.6–12.9 → 10.6–11.3 into a fresh
   * array (one thread 14.7–16.7 and 18.0–20.7); at σ = 20 (every component counts) within the
   * noise either way (0.74 → 0.64–0.71, 12.2–13.3 → 11.5–12.4 ms).
   */
  async #claimed(
    args: MixtureArgs,
    layout: MixtureLayout,
    xAt: number | null,
    outAt: number | null,
    tasks: number,
  ): Promise<void> {
    const runtime = this.#runtime, { batch, dim } = args;
    const chunks = Math.ceil(batch / CLAIM_ROWS);
    await runtime.scope(async (s) => {
      const at = s.alloc(layout.bytes);
      const { x, out } = this.#place(args, layout, at, xAt, outAt);
      const sync = s.zeros(16 + chunks * 4);
      const words = new Int32Array(runtime.memory.buffer, sync, 4 + chunks);
      if (xAt !== null) Atomics.store(words, 1, batch);
      const copyIn = () => {
        if (xAt !== null) return;
        try {
          const f32 = this.#view();
          for (let r0 = 0; r0 < batch; r0 += COPY_ROWS) {
            const r1 = Math.min(batch, r0 + COPY_ROWS);
            f32.set(args.x.subarray(r0 * dim, r1 * dim), (x >> 2) + r0 * dim);
            Atomics.store(words, 1, r1);
          }
        } catch (error) {
          // The lanes waiting for rows of x return: the call fails as one.
          Atomics.store(words, 1, -1);
          throw error;
        }
      };
      // The results out in order from chunk `copied` on, as far as the lanes have written them:
      // once this thread's lane is done (the workers' last chunks are then at most CLAIM_ROWS
      // rows from their end), and the rest once every lane is (a worker that failed never sets
      // its chunk's flag, and runSharing throws instead).
      let copied = 0;
      const copyOut = () => {
        if (outAt !== null) return;
        const f32 = this.#view();
        let c = copied;
        while (c < chunks && Atomics.load(words, 4 + c) !== 0) c++;
        const r0 = copied * CLAIM_ROWS, r1 = Math.min(batch, c * CLAIM_ROWS);
        if (r1 > r0) {
          args.out.set(f32.subarray((out >> 2) + r0 * dim, (out >> 2) + r1 * dim), r0 * dim);
        }
        copied = c;
      };
      const claimed: Task[] = Array.from({ length: tasks }, (_, t) => ({
        kernel: "diffusion_gmm_claimed_f32",
        // diffusion_gmm_f32's arguments but its row range (the last two): rows come by claims.
        args: [
          ...mixtureKernelArgs(at, layout, x, out, args, [0, 0], t).slice(0, -2),
          batch,
          CLAIM_ROWS,
          sync,
        ],
        // Only run on shared memory: regions are not listed.
      }));
      await runtime.runSharing(claimed, copyIn, { afterOwn: copyOut });
      for (let c = 0; c < chunks; c++) {
        if (Atomics.load(words, 4 + c) === 0) {
          throw new Error(`The mixture's rows ${c * CLAIM_ROWS}… were claimed but never written`);
        }
      }
      copyOut();
    });
  }
}

/** Rows a lane claims at a time in WasmMixture.#claimed (~10–15 µs of a 64-dim mixture's rows). */
const CLAIM_ROWS = 64;
/** Rows of x copied in at a time in WasmMixture.#claimed, the lanes' wait rising after each. */
const COPY_ROWS = 512;

/** Bytes of the per-task table of assembly/diffusion.ts's Gaussian fill. */
function fillTableBytes(dim: number): number {
  return Math.max(64, Math.ceil((((dim >> 1) & ~3) * 8) / 64) * 64);
}

/**
 * Fill tasks for rows of `dim` values at byte offset `at`, one per range of rows; `table` holds
 * one fillTableBytes(dim) block per range.
 */
function fillTasks(
  ranges: [number, number][],
  at: number,
  dim: number,
  noise: { seed: number; firstSample: number; draw: number },
  table: number,
): Task[] {
  const bytes = fillTableBytes(dim);
  return ranges.map(([r0, r1], t) => ({
    kernel: "diffusion_fill_gaussian_f32",
    args: [
      at,
      r0,
      r1,
      dim,
      noise.seed >>> 0,
      noise.firstSample >>> 0,
      noise.draw >>> 0,
      table + t * bytes,
    ],
    outputs: [[at + r0 * dim * 4, (r1 - r0) * dim * 4]],
    scratch: [[table + t * bytes, bytes]],
  }));
}

/**
 * Row ranges of a Gaussian fill. Ask once per call: whether the workers are polling changes
 * from one question to the next.
 */
function fillRanges(
  runtime: WasmRuntime,
  batch: number,
  dim: number,
  options?: SharingOptions,
): [number, number][] {
  return rowRanges(runtime, batch, batch * dim * 16, options);
}

/**
 * Work (rowRanges' units) of one denoiser call from which a run on memory that is not shared
 * keeps each worker's rows in that worker's memory (see WasmWorkspace): 8,192 rows of 64 dims and
 * 8 components. Chromium, a plain page, Heun, 20 steps, two threads against the rows copied each
 * call: 8,192 rows 58–70 → 42–53 ms (one thread 57–70); 4,096 rows 29–33 → 30–48 (29–35).
 */
const MIN_RESIDENT_WORK = 1 << 24;
/** i32 words of a lane's flag: diffusion_gmm_checked_f32's [finite][index][value], and a pad. */
const LANE_FLAG_WORDS = 4;

/**
 * Sampler state in WASM linear memory: each buffer is one heap block for the whole run, so step
 * kernels run on it in place, with no copies. Host views are handed out only over shared memory,
 * whose buffers are never detached when the memory grows. Over shared memory a large step is
 * dealt by rows as the mixture deals its rows (STEP_WORK_PER_VALUE) and returns a promise; until
 * it settles, every other call throws rather than race the workers.
 *
 *   heap:  … [x: size f32][denoised: size f32][noise: size f32] …   one block per slot
 *
 * Resident lanes. Where memory is not shared (a page without cross-origin isolation) each worker
 * has a private memory, and a call dealt to it carries copies of its rows there and back: for a
 * sampling run, four copies of the state per denoiser call. A run whose denoiser the workspace
 * can run itself (`options.residentRowWork`, {@link mixture}) and is large enough to split
 * instead deals its rows once, for the whole run: lane 0 to this thread (unless a lane's share of
 * a call is more than RUN_LANE_WORK: the workers then take every lane, and a page stays free),
 * the others to the workers in order, and every step, fill, copy and mixture call runs each lane
 * where its rows are. Each worker keeps its rows at the same offsets of its own memory as here;
 * nothing else lists them, so no other call overwrites them. Per buffer, what is where:
 *
 *   pageValid      this memory holds every row (else the workers' rows are only theirs)
 *   workersValid   each worker holds its rows (else they are only here, and go with the next
 *                  task that reads them)
 *
 * A buffer written here (write) is pageValid only; one written on the lanes workersValid only
 * (this thread's rows are always here). gather() fetches the workers' rows before read and
 * firstNonFinite, which refuse a buffer that is not pageValid. A worker that stops loses its rows:
 * the next call then throws.
 */
class WasmWorkspace implements DiffusionWorkspace {
  readonly size: number;
  readonly #runtime: WasmRuntime;
  readonly #family: DiffusionKernels;
  #blocks: number[] = [];
  #views: (Float32Array | null)[] = [];
  /** One i32 per task of a split step, where each reports whether its rows came out finite. */
  #flags: number | null = null;
  /** A split step not yet done: the workspace refuses every other call until it is. */
  #running: Promise<boolean> | null = null;
  /** Scratch of the Gaussian fill's tasks, allocated at the first draw. */
  #table: number | null = null;
  /** Resident lanes' rows (see the class notes), the first this thread's where #pageLane. */
  readonly #lanes: [number, number][] | null = null;
  readonly #pageLane: boolean = false;
  /** The pool's worker losses when the lanes were dealt. */
  readonly #losses: number = 0;
  readonly #pageValid: boolean[] = [];
  readonly #workersValid: boolean[] = [];
  /**
   * The workers' part of the calls on the lanes whose rows are not checked yet: resolves to the
   * first of their failures, or null (see #onLanes). release() waits for it.
   */
  #behind: Promise<Error | null> | null = null;
  /** Two blocks of flags for lane calls, one per call on the way (see #onLanes). */
  #laneFlags: number | null = null;
  #laneTurn = 0;

  constructor(
    runtime: WasmRuntime,
    readonly batch: number,
    readonly dim: number,
    family: DiffusionKernels,
    options?: WorkspaceOptions,
  ) {
    this.#runtime = runtime;
    this.#family = family;
    this.size = batch * dim;
    const work = batch * (options?.residentRowWork ?? 0), lanes = runtime.splitLanes();
    if (!runtime.shared && lanes > 1 && batch >= lanes && work >= MIN_RESIDENT_WORK) {
      this.#lanes = splitRows(batch, lanes);
      this.#pageLane = work / lanes <= RUN_LANE_WORK;
      this.#losses = runtime.workerLosses;
    }
  }

  /**
   * Whether the run's rows stay with the workers (see the class notes): a call on them then
   * resolves before the workers' rows are checked, which the next call does.
   */
  get resident(): boolean {
    return this.#lanes !== null;
  }

  buffer(): number {
    this.#idle();
    this.#blocks.push(this.#runtime.heap.alloc(this.size * 4));
    this.#views.push(null);
    this.#pageValid.push(true);
    this.#workersValid.push(true);
    return this.#blocks.length - 1;
  }

  view(slot: number): Float32Array | null {
    this.#idle();
    if (!this.#runtime.shared) return null;
    // A view made before the memory grew stays valid but is over the previous buffer object;
    // a fresh one lets kernels recognise it as this memory (`buffer === memory.buffer`).
    const cached = this.#views[slot];
    if (cached && cached.buffer === this.#runtime.memory.buffer) return cached;
    const view = this.#views[slot] = this.#f32(slot);
    runViews.add(view);
    return view;
  }

  /** On resident lanes the view shows the workers' rows as of the last gather(). */
  lend(slot: number): Float32Array {
    this.#idle();
    return this.#runtime.shared
      ? this.view(slot)!
      : lendView(this.#runtime.memory, this.#at(slot), this.size);
  }

  async gather(slot: number): Promise<void> {
    this.#idle();
    this.#at(slot);
    if (this.#lanes === null) return;
    if (this.#pageValid[slot]) {
      // Nothing to fetch, but what is here came from calls that may not be checked yet.
      const first = await this.#behind;
      if (first) throw first;
      return;
    }
    const rowBytes = this.dim * 4, at = this.#at(slot);
    await this.#onLanes("diffusion_copy_f32", () => [0, 0, 0], [], null, {
      outputs: ([r0, r1]) => [[at + r0 * rowBytes, (r1 - r0) * rowBytes]],
      unflagged: true,
      wait: true,
    });
    this.#pageValid[slot] = true;
  }

  read(slot: number, out: Float32Array): void {
    this.#idle();
    this.#here(slot);
    out.set(this.#f32(slot));
  }

  write(slot: number, data: Float32Array): void {
    this.#idle();
    const target = this.#f32(slot);
    if (data.buffer !== target.buffer || data.byteOffset !== target.byteOffset) {
      target.set(data.subarray(0, this.size));
    }
    this.#pageValid[slot] = true;
    this.#workersValid[slot] = this.#lanes === null;
  }

  firstNonFinite(slot: number): number {
    this.#idle();
    this.#here(slot);
    return this.#runtime.call("diffusion_first_nonfinite_f32", this.#at(slot), this.size);
  }

  copy(dst: number, src: number): void {
    this.#idle();
    const from = this.#at(src), to = this.#at(dst);
    if (this.#lanes !== null) {
      const rowBytes = this.dim * 4;
      const done = this.#onLanes(
        "diffusion_copy_f32",
        ([r0, r1]) => [
          to + r0 * rowBytes,
          from + r0 * rowBytes,
          (r1 - r0) * this.dim,
        ],
        [src],
        dst,
        { unflagged: true },
      );
      done.catch(() => {}); // #behind holds its failures: the next call on the lanes throws them
      return;
    }
    new Uint8Array(this.#runtime.memory.buffer).copyWithin(to, from, from + this.size * 4);
  }

  eulerStep(x: number, denoised: number, sigma: number, sigmaNext: number, into = x): Finite {
    const ratio = sigmaNext / sigma;
    return this.#update(
      "diffusion_euler_step_f32",
      [into, x, denoised],
      (p, n) => [...p, n, ratio],
    );
  }

  heunStep(
    x: number,
    denoised: number,
    xNext: number,
    denoisedNext: number,
    sigma: number,
    sigmaNext: number,
  ): Finite {
    const half = 0.5 * (sigmaNext - sigma);
    return this.#update("diffusion_heun_step_f32", [x, denoised, xNext, denoisedNext], (p, n) => [
      ...p,
      n,
      half / sigma,
      half / sigmaNext,
    ]);
  }

  derivativeStep(
    x: number,
    xEval: number,
    denoisedEval: number,
    sigmaEval: number,
    h: number,
  ): Finite {
    return this.#update("diffusion_derivative_step_f32", [x, xEval, denoisedEval], (p, n) => [
      ...p,
      n,
      h / sigmaEval,
    ]);
  }

  ancestralStep(
    x: number,
    denoised: number,
    noise: number,
    sigma: number,
    sigmaDown: number,
    sigmaUp: number,
  ): Finite {
    return this.#update("diffusion_ancestral_step_f32", [x, denoised, noise], (p, n) => [
      ...p,
      n,
      sigmaDown / sigma,
      sigmaUp,
    ]);
  }

  dpmppStep(
    x: number,
    denoised: number,
    denoisedPrev: number,
    noise: number,
    a: number,
    b: number,
    c: number,
    d: number,
  ): Finite {
    const terms: [number, number][] = [[x, a], [denoised, b]];
    if (denoisedPrev !== NONE) terms.push([denoisedPrev, c]);
    if (noise !== NONE) terms.push([noise, d]);
    return this.#combine(x, terms);
  }

  axpby(y: number, x: number, a: number, b: number): Finite {
    return this.#combine(y, [[y, a], [x, b]]);
  }

  blend(x: number, y: number, mask: number): Finite {
    return this.#update("diffusion_blend_f32", [x, y, mask], (p, n) => [...p, n]);
  }

  fillGaussian(
    slot: number,
    seed: number,
    firstSample: number,
    draw: number,
  ): void | Promise<void> {
    this.#idle();
    const runtime = this.#runtime, noise = { seed, firstSample, draw };
    // A table block for each task a call may have (see rowRanges): the count changes.
    const table = this.#table ??= runtime.heap.alloc(
      2 * runtime.threads * fillTableBytes(this.dim),
    );
    if (this.#lanes !== null) {
      const tasks = fillTasks(this.#lanes, this.#at(slot), this.dim, noise, table);
      return this.#onLanes(tasks[0].kernel, (_, lane) => tasks[lane].args, [], slot, {
        scratch: (lane) => tasks[lane].scratch!,
        unflagged: true,
      }).then(() => {});
    }
    const ranges = fillRanges(runtime, this.batch, this.dim, RUN_STEP);
    const tasks = fillTasks(ranges, this.#at(slot), this.dim, noise, table);
    if (tasks.length === 1) runtime.call(tasks[0].kernel, ...tasks[0].args);
    else return runtime.runSharing(tasks, undefined, RUN_STEP).then(() => {});
  }

  mixture(family: DiffusionKernels, out: number, x: number, tables: MixtureTables): Finite | null {
    if (this.#lanes === null || family !== this.#family) return null;
    this.#idle();
    const runtime = this.#runtime, lanes = this.#lanes;
    const layout = mixtureLayout({ ...tables, batch: this.batch }, lanes.length, false, false);
    const at = runtime.heap.alloc(layout.bytes);
    let running: Promise<boolean>;
    try {
      writeMixtureTables(new Float32Array(runtime.memory.buffer), at, layout, tables);
      const xAt = this.#at(x), outAt = this.#at(out), scratch = at + layout.scratch;
      running = this.#onLanes(
        "diffusion_gmm_checked_f32",
        (rows, lane, flag) => [
          ...mixtureKernelArgs(at, layout, xAt, outAt, tables, rows, lane),
          flag,
        ],
        [x],
        out,
        {
          inputs: [[at, layout.scratch]],
          scratch: (lane) => [[scratch + lane * layout.scratchBytes, layout.scratchBytes]],
          fail: (flag) => {
            const memory = runtime.memory.buffer;
            const [index] = new Int32Array(memory, flag + 4, 1);
            return nonFiniteOutput(new Float32Array(memory, flag + 8, 1)[0], index, tables.sigma);
          },
          done: () => runtime.heap.free(at),
        },
      );
    } catch (error) {
      runtime.heap.free(at);
      throw error;
    }
    return this.#hold(running);
  }

  release(): void | Promise<void> {
    const blocks = this.#blocks.splice(0);
    for (const block of [this.#table, this.#flags, this.#laneFlags]) {
      if (block !== null) blocks.push(block);
    }
    this.#table = this.#flags = this.#laneFlags = null;
    this.#views = [];
    const free = () => blocks.forEach((block) => this.#runtime.heap.free(block));
    // A run that failed while a step ran (its caller never awaited it), or whose last calls on
    // the lanes are still with the workers: free once they are done.
    const running = [this.#running, this.#behind].filter((p) => p !== null);
    if (running.length === 0) free();
    else return Promise.allSettled(running).then(free);
  }

  /** out ← Σ coefficient·buffer over 2–4 (slot, coefficient) terms, summed in order. */
  #combine(out: number, terms: [number, number][]): Finite {
    const slots = [out, ...terms.map(([slot]) => slot)];
    return this.#update(`diffusion_combine${terms.length}_f32`, slots, ([o, ...p], n) => [
      o,
      n,
      ...p.flatMap((ptr, i) => [ptr, terms[i][1]]),
    ]);
  }

  /**
   * Runs a step kernel on `slots` (the first is the one it writes; it may read all of them),
   * given its arguments for `n` values from the same byte of each buffer (`at`): on resident
   * lanes; here over all rows, synchronously; or where the workers poll (rowRanges) dealt by
   * the mixture's rows, each task reporting at its own flag. True when every value written is
   * finite.
   */
  #update(
    kernel: string,
    slots: number[],
    kernelArgs: (at: number[], n: number) => number[],
  ): Finite {
    this.#idle();
    const blocks = slots.map((slot) => this.#at(slot));
    const args = (shift: number, n: number) => kernelArgs(blocks.map((at) => at + shift), n);
    const runtime = this.#runtime, rowBytes = this.dim * 4;
    if (this.#lanes !== null) {
      const running = this.#onLanes(
        kernel,
        ([r0, r1], _, flag) => [...args(r0 * rowBytes, (r1 - r0) * this.dim), flag],
        slots,
        slots[0],
      );
      return this.#hold(running);
    }
    const ranges = runtime.sharingWith(RUN_STEP)
      ? rowRanges(runtime, this.batch, this.size * STEP_WORK_PER_VALUE, RUN_STEP)
      : [[0, this.batch] as [number, number]];
    if (ranges.length === 1) return runtime.call(kernel, ...args(0, this.size), 0) === 1;
    // rowRanges gives one range per thread over shared memory.
    const flags = this.#flags ??= runtime.heap.alloc(4 * runtime.threads);
    const tasks: Task[] = ranges.map(([r0, r1], t) => ({
      kernel,
      args: [...args(r0 * rowBytes, (r1 - r0) * this.dim), flags + 4 * t],
    }));
    return this.#hold(
      runtime.runSharing(tasks, undefined, RUN_STEP).then(() =>
        new Int32Array(runtime.memory.buffer, flags, tasks.length).every((finite) => finite === 1)
      ),
    );
  }

  /** `step`, during which the workspace refuses every other call (see #idle). */
  #hold(step: Promise<boolean>): Promise<boolean> {
    return this.#running = step.finally(() => {
      this.#running = null;
    });
  }

  /**
   * Runs `kernel` on each resident lane's rows where they are: this thread's here, in place, and
   * each worker's in its own memory. `args(rows, lane, flag)` gives a lane's arguments; `flag`
   * is where it reports whether its rows came out finite (an i32 that comes back from the
   * worker; see diffusion_gmm_checked_f32 for what may follow it) unless `extra.unflagged`.
   * Rows of `reads` that are only here go with the tasks first; afterwards `written` is the
   * lanes' (workersValid only). `extra` adds regions per task: `inputs` to copy to the workers,
   * `outputs` (by lane) to bring back, `scratch` (by lane) for the workers' memory to cover.
   *
   * The workers' part is checked one call late: the call returns once this thread's lane has
   * run and the workers' part of every earlier call is checked, so that the workers always have
   * the next call queued while this thread runs its lane (waiting for each worker's answer cost
   * ~0.3 ms a call in Chromium, 20 ms of a 160 ms run). It rejects with the first failure of
   * those earlier calls (a worker's error, or its flag turned into an error by that call's
   * `fail`, by default the state's overflow), else resolves to this thread's flag, or throws
   * `fail` of it. With `extra.wait` it also waits for and checks its own workers. `done` runs
   * once its workers are done.
   *
   * @throws {Error} When a worker has stopped since the lanes were dealt: its rows are lost.
   */
  #onLanes(
    kernel: string,
    args: (rows: [number, number], lane: number, flag: number) => number[],
    reads: number[],
    written: number | null,
    extra: {
      inputs?: Region[];
      outputs?: (rows: [number, number]) => Region[];
      scratch?: (lane: number) => Region[];
      unflagged?: boolean;
      wait?: boolean;
      fail?: (flag: number) => Error;
      done?: () => void;
    } = {},
  ): Promise<boolean> {
    const runtime = this.#runtime, lanes = this.#lanes!, rowBytes = this.dim * 4;
    if (runtime.workerLosses !== this.#losses) {
      throw new Error(
        "A worker of the pool stopped during this sampling run, and its rows of the run's state with it",
      );
    }
    // Flags of this call and of the one before, whose workers may not have answered yet.
    const flagged = !extra.unflagged, stride = 4 * LANE_FLAG_WORDS;
    const blocks = this.#laneFlags ??= runtime.heap.alloc(2 * runtime.threads * stride);
    const flags = flagged ? blocks + (this.#laneTurn ^= 1) * runtime.threads * stride : 0;
    const present = reads.filter((slot) => slot !== NONE);
    const push = [...new Set(present.filter((slot) => !this.#workersValid[slot]))];
    const touched = [...new Set(written === null ? present : [...present, written])];
    const tasks: Task[] = lanes.map((rows, lane) => {
      const [r0, r1] = rows;
      const part = (slot: number): Region => [this.#at(slot) + r0 * rowBytes, (r1 - r0) * rowBytes];
      const flag = flags + stride * lane;
      return {
        kernel,
        args: args(rows, lane, flag),
        inputs: [...(extra.inputs ?? []), ...push.map(part)],
        outputs: [...(flagged ? [[flag, stride] as const] : []), ...(extra.outputs?.(rows) ?? [])],
        scratch: [...touched.map(part), ...(extra.scratch?.(lane) ?? [])],
      };
    });
    for (const slot of push) this.#workersValid[slot] = true;
    if (written !== null) {
      this.#pageValid[written] = false;
      this.#workersValid[written] = true;
    }
    const word = (lane: number) =>
      new Int32Array(runtime.memory.buffer, flags + stride * lane, 1)[0];
    const failure = (lane: number) => extra.fail?.(flags + stride * lane) ?? stateOverflow();
    // This thread's lane runs before runSharing first awaits (afterOwn reads its flag then).
    let mine: boolean | null = this.#pageLane ? null : true;
    const afterOwn = () => void (mine = !flagged || word(0) === 1);
    const run = this.#pageLane
      ? runtime.runSharing(tasks, undefined, { ...RUN_MIXTURE, afterOwn })
      : runtime.run(tasks);
    const theirs = run.then(() => {
      for (let lane = this.#pageLane ? 1 : 0; flagged && lane < lanes.length; lane++) {
        if (word(lane) !== 1) return failure(lane);
      }
      return null;
    }, (error: Error) => error).finally(extra.done);
    const prior = this.#behind;
    const behind = this.#behind = prior === null
      ? theirs
      : Promise.all([prior, theirs]).then(([first, next]) => first ?? next);
    if (mine === null) return run.then(() => true); // this thread's lane failed: run rejects
    const own: boolean = mine;
    return (extra.wait ? behind : prior ?? Promise.resolve(null)).then((first) => {
      if (first !== null) throw first;
      if (!own && flagged && extra.fail) throw failure(0);
      return own;
    });
  }

  /** Throws where buffer `slot` is not all here: its rows with the workers need gather() first. */
  #here(slot: number): void {
    this.#at(slot);
    if (this.#pageValid[slot]) return;
    throw new Error(
      `Buffer ${slot} of this workspace has rows with the workers: gather() it first`,
    );
  }

  /** Throws while a split step runs: its caller must await it before anything else. */
  #idle(): void {
    if (this.#running !== null) {
      throw new Error("A step of this workspace is still running: await it before the next call");
    }
  }

  #at(slot: number): number {
    const block = this.#blocks[slot];
    if (block === undefined) throw new RangeError(`No buffer in slot ${slot} of this workspace`);
    return block;
  }

  #f32(slot: number): Float32Array {
    return new Float32Array(this.#runtime.memory.buffer, this.#at(slot), this.size);
  }
}

/** The diffusion kernels on `runtime`. */
export function wasmDiffusion(runtime: WasmRuntime): DiffusionKernels {
  const mixture = new WasmMixture(runtime);
  const kernels: DiffusionKernels = {
    name: "wasm",

    workspace: (batch, dim, options) => new WasmWorkspace(runtime, batch, dim, kernels, options),

    async fillGaussian(out, batch, dim, seed, firstSample, draw) {
      const n = batch * dim;
      if (n === 0) return;
      await runtime.scope(async (s) => {
        const at = s.alloc(n * 4);
        const ranges = fillRanges(runtime, batch, dim);
        const table = s.alloc(ranges.length * fillTableBytes(dim));
        await runtime.runSharing(fillTasks(ranges, at, dim, { seed, firstSample, draw }, table));
        out.set(s.f32(at, n));
      });
    },

    mixture: (args) => mixture.run(args),
  };
  return kernels;
}
