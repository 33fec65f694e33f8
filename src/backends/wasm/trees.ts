/**
 * The `trees` kernel family on the WASM runtime (assembly/trees.ts). A fit grows its trees in a
 * workspace (WasmWorkspace) that keeps the bin matrix, the tree's gradients and row order, and
 * the node histograms in WASM memory; the per-node kernels copy their arrays in per call, except
 * those announced with `retain` (found again by identity).
 *
 * When memory is shared, work is dealt by feature groups (histograms, split search) or row
 * ranges (binning, prediction), and this thread takes one share itself (not on a web page's main
 * thread: see WasmRuntime.runSharing): each task writes only its own slots or rows and each sum
 * runs in the reference's order, so results are bit-identical to the reference for any thread
 * count. Where memory is copied, predictions and SHAP values go to the workers with copies of
 * their rows, and a fit's large trees grow on this thread and one worker, each keeping its own
 * features' histograms (CopiedGrowth).
 *
 * @module
 */
import type { HostArray, Scope, SharingOptions, Task, WasmRuntime } from "../../runtime/_wasm.ts";
import { contiguousShares, LaneBalance, SplitPayoff } from "./_lanes.ts";
import { CopiedGrowth, type StepRegions } from "./_copied_growth.ts";
import type {
  BinArgs,
  CutBuffers,
  GradientArgs,
  GrowthStep,
  HistogramArgs,
  LeafStep,
  LentBins,
  PartitionArgs,
  PartitionStep,
  PredictArgs,
  ResidentArray,
  ShapArgs,
  SplitArgs,
  SortDistinctArgs,
  SubtractArgs,
  TreesKernels,
  TreesWorkspace,
  WorkspaceArgs,
} from "../trees.ts";
import {
  BIN_SET_WORDS,
  BUILD_FIELD,
  BUILD_FIELD_COUNT,
  type Categorical,
  PARTITION_FIELD,
  PARTITION_FIELD_COUNT,
  SPLIT_FIELD_COUNT,
  SPLIT_PARAM_COUNT,
  SUBTRACT_FIELD_COUNT,
} from "../trees.ts";
import {
  addLeavesRef,
  bestCandidate,
  findSplitsRef,
  partitionRef,
  sortDistinctColumnsRef,
} from "../js/trees.ts";

/**
 * How long a fit's workers poll after a step (see SharingOptions.pollMs): a fit's steps come
 * back to back, but this thread's own work between two of them (an unsplit step, a garbage
 * collection, the cut search's TypeScript) can outlast SPIN_MS, and each list that then found
 * its worker asleep started 1–3 ms late in Node 20. Measured there (200k × 28, two threads,
 * four fits each): lists that found their worker asleep 13–58 a fit before, 3–5 after (the cut
 * search's first ones); the caller's waits once its own lane was done 84–258 → 59–145 ms a fit.
 * Fit times moved within the host's noise (ten alternating rounds, 0.78–1.35×, median 1.04×);
 * in Deno and a Chromium page, where wake-ups are quicker, no change beyond noise either.
 */
const FIT_POLL_MS = 10;

/**
 * How a fit's steps are dealt: with this thread's share even on a page's main thread (see
 * SharingOptions.evenOnPage), and with the workers polling for FIT_POLL_MS after each step.
 * Predictions and SHAP values, single calls, leave a page's thread free instead.
 */
const FIT_STEP: SharingOptions = { evenOnPage: true, pollMs: FIT_POLL_MS };

/**
 * Bytes of a lane's record in a shared growth step (trees_grow_step_f64's `claims`): its
 * features' range as two i32 (front, back), then how many features it ran.
 */
const CLAIM_BYTES = 16;
/** The i32 index of the features a lane ran, within its claim record. */
const CLAIM_RAN = 2;

/** Below this many (row, feature) cells a histogram stays in one task. */
const MIN_PARALLEL_CELLS = 1 << 17;
/**
 * Below this much work (in histogram cells, ~0.7 ns each) a growth step stays in this thread
 * unless the workers are polling: waking one costs 0.1–0.9 ms on the test VMs, so a step must
 * be several times that long before halving it pays.
 */
const MIN_PARALLEL_STEP_CELLS = 1 << 19;
/**
 * From this much work a growth step splits while the workers poll (see
 * WasmRuntime.workersPolling), as they do between a fit's steps: a round trip then costs
 * 10–30 µs. Measured (Deno, 200k × 28 on two threads, four fits each way alternating in one
 * process): the 53 steps a fit of 2¹⁷–2¹⁹ cells took 36–45 ms in one task and 20–22 ms split,
 * the 8 of 2¹⁶–2¹⁷ cells 3.8–5.2 against 1.3–1.9 ms.
 */
const MIN_POLLED_STEP_CELLS = 1 << 16;
/**
 * The highest SplitPayoff may raise the bar for a growth step: a 200k × 28 fit's root (5.6M
 * cells) always splits.
 */
const MAX_STEP_BAR_CELLS = 1 << 22;
/**
 * Below this many rows a level's partition stays in this thread. A row costs ~1 ns (four rows
 * a step: gathered bins, shuffled stores; trees_partition), the merge a small fraction of that,
 * a round trip to the workers 30–80 µs on an idle machine: a second thread saves ~0.5 ns a
 * row, which pays for the round trip from ~60k–160k rows. Measured (Deno, fits of 100k × 28 on
 * two threads, eight rounds): the levels' partitions took 72 ms a fit split, 83 ms unsplit.
 */
const MIN_PARALLEL_PARTITION_ROWS = 1 << 16;
/**
 * Below this many rows a margin update stays in one task: a row costs ~1.5 ns (a scattered
 * read-modify-write), a second thread saves half of that against a 30–80 µs round trip.
 */
const MIN_PARALLEL_MARGIN_ROWS = 1 << 16;
/**
 * Where memory is copied, a tree whose first step (its root) is below this much work grows in
 * this thread alone: each of its steps would cost a message to each worker and back. Chromium,
 * plain page, two threads against the steps in the page's thread alone (first / second fit of a
 * page, medians of alternating rounds): 80k × 28 (2.2M cells) 1.06× / 1.02× the time, 100k × 28
 * (2.8M) 0.98× / 0.89×, 200k × 28 0.93× / 0.88×.
 */
const MIN_COPIED_TREE_CELLS = 3 << 20;
/**
 * ...and a tree whose predecessor's steps averaged less than this much work each: a
 * loss-guided tree's steps each grow one node (a 200k × 28 fit with 64 leaves a tree averages
 * ~0.5M cells a step), and split on two lanes such fits took 1.2–1.3× as long (Chromium, plain
 * page); a depth-wise tree's steps are whole levels (~3M cells a step at 200k × 28).
 */
const MIN_COPIED_STEP_CELLS = 1 << 20;
/**
 * ...and a fit whose trees (as many as it may grow) times the tree's root cells reach this: a
 * pool's first split fit pays its worker's first copies and memory, ~35–100 ms here (12 rounds
 * of 140k × 28 took 1.09× as long split, a fresh pool's 140k × 24 1.2–1.4×), against ~2 ms
 * gained a tree at 200k × 28 (~25 such trees to break even).
 */
const MIN_COPIED_FIT_CELLS = 1 << 27;
/**
 * What a copied growth step's messages add to its worker's lane, for the balance of its
 * features (see CopiedGrowth): in a Chromium page (two cores), a task reached an idle worker
 * ~0.1 ms after it was posted and the reply came back 0.2–0.3 ms after it left (medians).
 */
const COPIED_MESSAGES_MS = 0.3;
/**
 * The most lanes a copied growth step takes: this thread copies each worker's rows into its
 * staging buffer before its own lane (~0.27 ms a step a worker in a 200k × 28 fit, whose steps
 * are ~2 ms of work on one thread), so a third lane would save this thread less than it costs.
 */
const MAX_COPIED_GROWTH_LANES = 2;
/** Rows binned per kernel call. */
const BIN_BLOCK_ROWS = 8192;
/** Below this many rows prediction stays in one task. */
const MIN_PARALLEL_ROWS = 4096;
/**
 * A row's step down one level of a tree weighed as flops of the matmul and attention kernels
 * that take as long (~1.35 ns against ~35 GFLOP/s of the plain build here): the measure of a
 * prediction's work for WasmRuntime.laneOnCopied.
 */
const PREDICT_STEP_FLOPS = 48;
/** Below this many rows SHAP values stay in one task (a row costs ~0.1 ms at 50 trees). */
const MIN_PARALLEL_SHAP_ROWS = 8;
/** The same where memory is copied: each task's rows and the model travel to its worker. */
const MIN_COPIED_PARALLEL_SHAP_ROWS = 64;

interface Resident {
  ptr: number;
  count: number;
}

/** Contiguous index ranges of [0, n) for the tasks of one call: ~2 per thread. */
function ranges(n: number, threads: number, parallel: boolean): [number, number][] {
  if (!parallel || threads === 1 || n < 2) return [[0, n]];
  const step = Math.ceil(n / Math.min(n, threads * 2));
  const out: [number, number][] = [];
  for (let lo = 0; lo < n; lo += step) out.push([lo, Math.min(n, lo + step)]);
  return out;
}

export function wasmTrees(runtime: WasmRuntime): TreesKernels {
  const resident = new Map<ResidentArray, Resident>();
  /** Host arrays that alias WASM memory (workspace value buffers), with their offsets. */
  const aliases: Aliases = new WeakMap();

  /** The array's offset: its resident copy, or a fresh copy owned by the scope. */
  const place = (s: Scope, array: HostArray): number =>
    resident.get(array as ResidentArray)?.ptr ?? s.put(array);
  // Feature groups and row blocks go to workers only on shared memory; copying the bin matrix
  // into every worker would cost more than the work (a growth workspace's large trees excepted:
  // see CopiedGrowth).
  const canSplit = () => runtime.shared && runtime.threads > 1;
  const predictHere = new InThreadPredict(runtime, resident);
  /** How the gradients' rows split between this thread and a worker (see gradientsOn). */
  const gradientLanes = new LaneBalance();

  return {
    name: "wasm",

    retain(array) {
      const entry = resident.get(array);
      if (entry) entry.count++;
      else {
        const ptr = runtime.heap.alloc(array.byteLength);
        new Uint8Array(runtime.memory.buffer, ptr, array.byteLength).set(
          new Uint8Array(array.buffer, array.byteOffset, array.byteLength),
        );
        resident.set(array, { ptr, count: 1 });
      }
      return Promise.resolve();
    },

    release(array) {
      const entry = resident.get(array);
      if (entry && --entry.count === 0) {
        resident.delete(array);
        runtime.heap.free(entry.ptr);
      }
      return Promise.resolve();
    },

    sortDistinct: (args) => sortDistinctOn(runtime, args, canSplit(), aliases),
    cutBuffers: (nRows, count) => cutBuffersOn(runtime, nRows, count, aliases),
    binBuffer: (cells) => binBufferOn(runtime, cells, aliases),
    binFeatures: (args) => binOn(runtime, args, place, canSplit(), aliases),
    buildHistogram: (args) => histogramOn(runtime, args, place, canSplit()),
    subtractHistogram: (args) => subtractOn(runtime, args, place),
    // Categorical splits take the reference's path (see WasmWorkspace).
    findSplits: (args) =>
      args.categorical ? Promise.resolve(findSplitsRef(args)) : splitsOn(runtime, args, place),
    partition: (args) =>
      args.rightBins ? Promise.resolve(partitionRef(args)) : partitionOn(runtime, args, place),
    // Predictions and SHAP values split on copied memory too: each task carries its own rows
    // and the model (see predictOn and shapOn).
    predict: (args, firstRow, rowCount) =>
      predictOn(runtime, args, place, runtime.threads > 1, firstRow, rowCount, predictHere),
    shap: (args, firstRow, rowCount) =>
      shapOn(runtime, args, place, runtime.threads > 1, firstRow, rowCount),
    gradients: (args) => gradientsOn(runtime, args, place, aliases, canSplit(), gradientLanes),
    workspace: (args) => new WasmWorkspace(runtime, args, aliases),
  };
}

/**
 * Below this many (row, output) entries the gradients stay in one task: a softmax entry costs
 * ~5–6 ns (an exponential; ~8–10 before its maxima and 2^k took one instruction each), a
 * logistic one about as much, against a 45–150 µs round trip.
 */
const MIN_PARALLEL_GRADIENT_ENTRIES = 1 << 15;
/**
 * From this many entries the gradients split while the workers poll (the round before left
 * them polling): 20k × 28 logistic fits on two threads (Deno, alternating with the rule above,
 * five each) spent 7.7–14.8 ms a fit on gradients, median 8.6, against 12.8–14.0 in one task; at
 * 10k rows the gain was within the noise.
 */
const MIN_POLLED_GRADIENT_ENTRIES = 1 << 14;
/** How much longer than this thread's lane a call may last before the worker counts as late. */
const WAKE_SLACK_MS = 0.05;

/**
 * Where each of the tasks' row ranges ends, for `n` rows cut at the cumulative fractions `ends`
 * (the last 1): each end but the last even, so that the tasks' pairs of rows (the gradient
 * kernels take two at a time) are the pairs one task would make, and never decreasing.
 */
export function evenRowEnds(n: number, ends: number[]): number[] {
  const out = ends.map((end) => Math.min(n, Math.round((n * end) / 2) * 2));
  out[out.length - 1] = n;
  for (let i = 1; i < out.length; i++) out[i] = Math.max(out[i], out[i - 1]);
  return out;
}

async function gradientsOn(
  runtime: WasmRuntime,
  args: GradientArgs,
  place: Place,
  aliases: Aliases,
  parallel: boolean,
  balance: LaneBalance,
): Promise<void> {
  const { nOutputs: K } = args;
  const n = args.labels.length;
  if (n === 0) return;
  await runtime.scope(async (s) => {
    // Margins that alias WASM memory (a workspace's) are read in place.
    const margins = aliases.get(args.margins) ?? place(s, args.margins.subarray(0, n * K));
    const labels = place(s, args.labels);
    const weights = args.weights === null ? 0 : place(s, args.weights);
    // Outputs that alias WASM memory are written in place; the others go through a block.
    const inPlace = args.out.every((a) => aliases.has(a));
    const block = inPlace ? 0 : s.alloc(K * n * 16);
    const outs = Int32Array.from(
      args.out,
      (a, k) => inPlace ? aliases.get(a)! : block + k * n * 16,
    );
    const outTable = s.put(outs);
    const entries = n * K, threads = runtime.lanes();
    const split = parallel && (entries >= MIN_PARALLEL_GRADIENT_ENTRIES ||
      (entries >= MIN_POLLED_GRADIENT_ENTRIES && runtime.workersPolling(threads, FIT_STEP)));
    const lanes = split ? threads : 1;
    // Even row bounds: each task's pairs of rows are the pairs a single task would make. Two
    // lanes split as learnt (see below); more split evenly.
    const ends = evenRowEnds(n, balance.ends(lanes));
    const tasks: Task[] = [];
    for (let lane = 0; lane < lanes; lane++) {
      const r0 = lane === 0 ? 0 : ends[lane - 1], r1 = ends[lane];
      tasks.push(
        args.loss === "logistic"
          ? {
            kernel: "trees_logistic_gradients_f64",
            args: [outs[0], margins, labels, weights, args.scalePosWeight, r0, r1],
          }
          : {
            kernel: "trees_softmax_gradients_f64",
            args: [outTable, margins, labels, weights, s.alloc(K * 16), K, r0, r1],
          },
      );
    }
    const start = performance.now();
    const [here, there] = await runtime.runSharing(tasks, undefined, FIT_STEP);
    if (lanes === 2) {
      // The worker's time counts from the ring when the call outlasted this thread's lane: a
      // worker asleep since the last round starts its list only once woken (0.1–3 ms here).
      // A fit whose steps all stay in this thread (Shuttle: 50k rows × 7 classes) leaves it
      // asleep at every round's gradients, whose equal halves then took 457–579 ms a fit when
      // wake-ups were slow, against ~340 ms in one task.
      const wall = performance.now() - start;
      balance.record([here, wall > here + WAKE_SLACK_MS ? wall : there], ends[0], n);
    }
    if (!inPlace) {
      for (let k = 0; k < K; k++) args.out[k].set(s.f64(outs[k], n * 2));
    }
  });
}

/** Split-search work counted per candidate bin, against one histogram cell per row and feature. */
const SEARCH_COST_PER_BIN = 4;

/**
 * Growth state in WASM linear memory, one heap block each, for the whole fit:
 *
 * ```
 *  bins  u8 F·n      values  f64 n·C      rows, scratch  i32 n
 *  hist slot 0  f64 slots·C    hist slot 1 …    (one block per slot, made on first use)
 * ```
 *
 * A step copies in its small records (slot numbers turned into byte offsets) and, on shared
 * memory, is dealt to this thread and the workers by features: each lane starts on its own
 * range (the split learnt from the last steps) and then takes what the others have left
 * (trees_grow_step_f64's claims); whichever lane takes a feature builds, subtracts and searches
 * it for every node of the step, so one step is one round trip, and every feature's sums are
 * made in the same order whoever runs it. A level's partition is dealt by row ranges when it is
 * large (trees_partition_pieces) and runs in this thread when it is small.
 *
 * Where memory is copied, a large tree's steps are dealt to this thread and one worker by
 * ranges of feature ids instead, the worker keeping its features' bin columns and histograms
 * (CopiedGrowth, #copiedStep).
 *
 * Categorical features take the reference's path: the kernels build and subtract their
 * histograms with the others', then their split search (categoryOrder and the prefix scans)
 * and the partition of nodes split on them run in TypeScript on views of the workspace's
 * memory, in this thread, after the step. Results are the reference's bit for bit, whatever
 * the thread count; numeric features keep the kernel.
 */
class WasmWorkspace implements TreesWorkspace {
  readonly #runtime: WasmRuntime;
  readonly #nRows: number;
  readonly #nChannels: number;
  readonly #binOffsets: Int32Array;
  readonly #histBytes: number;
  readonly #blocks: number[] = [];
  readonly #slots: number[] = [];
  readonly #bins: number;
  readonly #offsets: number;
  readonly #monotone: number;
  readonly #monotoneMask: Int8Array | null;
  readonly #categorical: Categorical | null;
  readonly #values: number;
  readonly #rows: number;
  readonly #scratch: number;
  /** rowSums' output, nChannels f64. */
  readonly #sums: number;
  /** How growth steps, partitions and margin updates split between this thread and a worker. */
  readonly #growLanes = new LaneBalance();
  readonly #partitionLanes = new LaneBalance();
  readonly #marginLanes = new LaneBalance();
  /** The smallest growth step worth splitting in this fit (see SplitPayoff). */
  readonly #stepPayoff = new SplitPayoff(MIN_POLLED_STEP_CELLS, MAX_STEP_BAR_CELLS);
  /** The block of gathered (g, h) pairs (0: none, see the constructor). */
  readonly #gather: number = 0;
  readonly #aliases: Aliases;
  /** Value buffers lent as host views by `values`, by index. */
  readonly #valueBuffers: BlockViews<Float64Array>[] = [];
  /** The margins' buffer lent by `margins`. */
  #marginBuffer: BlockViews<Float64Array> | null = null;
  /** The values the next steps read: the own buffer or an aliasing one. */
  #current = 0;
  readonly #gatherRows: number = 0;
  readonly #readsHistograms: boolean;
  /** The most trees the fit grows (WorkspaceArgs.trees; unknown: Infinity). */
  readonly #trees: number;
  /** Where memory is copied: the lanes trees grow on (made at the first such tree), or null. */
  #copied: CopiedGrowth | null = null;
  /** Whether the next step begins a tree, and whether the current tree grows on #copied. */
  #treeBegins = true;
  #copiedTree = false;
  /** The current tree's steps and their work in cells; the last tree's work a step. */
  #treeSteps = 0;
  #treeCells = 0;
  #lastStepCells = Infinity;
  /** Set once a worker's memory could not grow for a copied tree: none for the rest of the fit. */
  #copiedOff = false;

  constructor(runtime: WasmRuntime, args: WorkspaceArgs, aliases: Aliases) {
    this.#runtime = runtime;
    this.#aliases = aliases;
    this.#nRows = args.nRows;
    this.#nChannels = args.nChannels;
    this.#binOffsets = args.binOffsets.slice();
    this.#monotoneMask = args.monotone;
    this.#categorical = args.categorical ?? null;
    this.#readsHistograms = args.readsHistograms === true;
    this.#trees = args.trees ?? Infinity;
    const totalSlots = args.binOffsets[args.nFeatures];
    this.#histBytes = Math.max(8, totalSlots * args.nChannels * 8);
    try {
      // Bins lent by binBuffer are read where they lie (their lender frees them).
      this.#bins = aliases.get(args.bins) ??
        this.#put(args.bins.subarray(0, args.nFeatures * args.nRows));
      this.#offsets = this.#put(this.#binOffsets);
      this.#monotone = args.monotone === null
        ? 0
        : this.#put(Uint8Array.from(args.monotone, (v) => v & 0xff));
      this.#values = this.#alloc(args.nRows * args.nChannels * 8);
      this.#current = this.#values;
      this.#rows = this.#alloc(args.nRows * 4);
      this.#scratch = this.#alloc(args.nRows * 4);
      this.#sums = this.#alloc(args.nChannels * 8);
      // One block for the (g, h) pairs of a step's segments, up to half the rows (see
      // trees_grow_step_f64), which a claimed step's lanes gather together and all read;
      // larger segments are read in place.
      this.#gatherRows = args.nChannels === 2 ? args.nRows >> 1 : 0;
      this.#gather = this.#gatherRows > 0 ? this.#alloc(this.#gatherRows * 16) : 0;
    } catch (error) {
      this.release();
      throw error;
    }
  }

  values(index: number): Float64Array | null {
    const lent = this.#valueBuffers[index] ??= this.#lend(this.#nRows * this.#nChannels);
    return lent.views()[0];
  }

  margins(nOutputs: number): Float64Array | null {
    return (this.#marginBuffer ??= this.#lend(this.#nRows * nOutputs)).views()[0];
  }

  /**
   * A new buffer of `n` doubles in this workspace's memory, lent as host views known to the
   * kernels (blockViews: made again after unshared memory grew; earlier views keep their alias
   * until `release`, so a kernel given one still finds the buffer).
   */
  #lend(n: number): BlockViews<Float64Array> {
    return blockViews(
      this.#runtime,
      this.#alloc(n * 8),
      this.#aliases,
      (buffer, block) => [new Float64Array(buffer, block, n)],
    );
  }

  /**
   * In the kernel when the margins alias this workspace's memory (else in TypeScript on a view
   * of the row order). From MIN_PARALLEL_MARGIN_ROWS rows the tasks split the rows' range, not
   * the leaves: a leaf's rows lie all over the margins, so tasks dealt leaves wrote the same
   * cache lines all the time (a 200k × 28 fit's margin updates took 2× as long on two threads
   * as on one: 59 against 29 ms). With ascending segments each task finds its own rows by
   * binary search; else it reads every segment through (~0.9 ns a row, about what the update
   * of a row costs, so splitting then gains little).
   */
  addLeaves(step: LeafStep): Promise<void> {
    const runtime = this.#runtime, { leafCount, segments } = step;
    const margins = this.#aliases.get(step.margins);
    if (margins === undefined) {
      addLeavesRef(step, new Int32Array(runtime.memory.buffer, this.#rows, this.#nRows));
      return Promise.resolve();
    }
    if (leafCount === 0) return Promise.resolve();
    return runtime.scope(async (s) => {
      const segmentsAt = s.put(segments.subarray(0, 2 * leafCount));
      const valuesAt = s.put(step.values.subarray(0, leafCount));
      const n = this.#nRows;
      const lanes = this.#parallel(n >= MIN_PARALLEL_MARGIN_ROWS) ? runtime.lanes() : 1;
      const shares = contiguousShares(n, this.#marginLanes.ends(lanes));
      const tasks: Task[] = shares.map(([lo, hi]) => ({
        kernel: "trees_add_leaves_f64",
        args: [
          margins, this.#rows, segmentsAt, valuesAt, step.k, step.nOutputs, 0, leafCount, lo, hi,
          step.ascending ? 1 : 0,
        ],
        // In place (the margins alias this memory): each task owns its rows' margins.
        outputs: [],
      }));
      const times = await s.runSharing(tasks, undefined, FIT_STEP);
      if (shares.length === 2) this.#marginLanes.record(times, shares[0][1], n);
    });
  }

  setValues(values: Float64Array): void {
    this.#copied?.valuesChanged();
    const aliased = this.#aliases.get(values);
    if (aliased !== undefined) {
      this.#current = aliased;
      return;
    }
    const n = this.#nRows * this.#nChannels;
    new Float64Array(this.#runtime.memory.buffer, this.#values, n).set(values.subarray(0, n));
    this.#current = this.#values;
  }

  setRows(rows: Int32Array, count: number): void {
    new Int32Array(this.#runtime.memory.buffer, this.#rows, count).set(rows.subarray(0, count));
    this.#treeBegins = true;
  }

  setRowsInOrder(count: number): void {
    this.#runtime.call("trees_rows_in_order_i32", this.#rows, count);
    this.#treeBegins = true;
  }

  rowSums(count: number, out: Float64Array): void {
    const C = this.#nChannels;
    this.#runtime.call("trees_row_sums_f64", this.#current, this.#rows, count, C, this.#sums);
    out.set(new Float64Array(this.#runtime.memory.buffer, this.#sums, C));
  }

  readRows(out: Int32Array, count: number): void {
    out.set(new Int32Array(this.#runtime.memory.buffer, this.#rows, count));
  }

  readHistogram(slot: number, feature: number, out: Float64Array): void {
    const C = this.#nChannels, offsets = this.#binOffsets;
    const from = offsets[feature] * C, to = offsets[feature + 1] * C;
    const hist = this.#slot(slot);
    out.set(new Float64Array(this.#runtime.memory.buffer, hist + from * 8, to - from));
  }

  async grow(step: GrowthStep): Promise<void> {
    const { featureCount, buildCount, subtractCount, searchCount } = step;
    const runtime = this.#runtime, C = this.#nChannels;
    // Slot blocks first: allocating may grow memory, which ends earlier views.
    const build = step.build.slice(0, buildCount * BUILD_FIELD_COUNT);
    for (let j = 0; j < buildCount; j++) {
      const o = j * BUILD_FIELD_COUNT + BUILD_FIELD.slot;
      build[o] = this.#slot(build[o]);
    }
    // Both fields of a subtraction record are slots.
    const subtract = step.subtract.slice(0, subtractCount * SUBTRACT_FIELD_COUNT);
    for (let j = 0; j < subtract.length; j++) subtract[j] = this.#slot(subtract[j]);
    const search = step.search.slice(0, searchCount).map((slot) => this.#slot(slot));
    const { candidates: kernelCandidates, candidateOffsets: kernelOffsets } = this.#numeric(step);
    const candidateCount = kernelOffsets[searchCount];
    await runtime.scope(async (s) => {
      const features = s.put(step.features.subarray(0, Math.max(1, featureCount)));
      const builds = s.put(build);
      const subtracts = s.put(subtract);
      const searches = s.put(search);
      const params = s.put(step.params.subarray(0, searchCount * SPLIT_PARAM_COUNT));
      const candidates = s.put(kernelCandidates.subarray(0, Math.max(1, candidateCount)));
      const candidateOffsets = s.put(kernelOffsets.subarray(0, searchCount + 1));
      const out = s.alloc(Math.max(1, candidateCount) * SPLIT_FIELD_COUNT * 8);
      const task = (k0: number, k1: number, lane = 0, claims = 0, lanes = 1): Task => ({
        kernel: "trees_grow_step_f64",
        args: [
          this.#bins,
          this.#current,
          this.#rows,
          this.#offsets,
          features,
          builds,
          subtracts,
          searches,
          params,
          candidates,
          candidateOffsets,
          this.#monotone,
          out,
          this.#nRows,
          C,
          k0,
          k1,
          buildCount,
          subtractCount,
          searchCount,
          this.#gather,
          this.#gatherRows,
          claims,
          lane,
          lanes,
        ],
        // Only run on shared memory (see #parallel): regions are not listed.
      });
      let cells = 0;
      for (let j = 0; j < buildCount; j++) {
        const o = j * BUILD_FIELD_COUNT;
        cells += (build[o + BUILD_FIELD.rowEnd] - build[o + BUILD_FIELD.rowBegin]) * featureCount;
      }
      const slots = this.#binOffsets[this.#binOffsets.length - 1];
      cells += SEARCH_COST_PER_BIN * searchCount * slots;
      const tasks = Math.min(runtime.lanes(), featureCount);
      // Fits on a page's main thread too, where this thread takes a share (FIT_STEP).
      const large = cells >= MIN_PARALLEL_STEP_CELLS ||
        (tasks > 1 && cells >= MIN_POLLED_STEP_CELLS && runtime.workersPolling(tasks, FIT_STEP));
      if (this.#treeBegins) {
        this.#treeBegins = false;
        if (this.#treeSteps > 0) this.#lastStepCells = this.#treeCells / this.#treeSteps;
        this.#treeSteps = this.#treeCells = 0;
        this.#copiedTree = this.#beginCopiedTree(cells);
      }
      this.#treeSteps++;
      this.#treeCells += cells;
      const onLanes = this.#copiedTree && await this.#copiedStep(
        step,
        task,
        { features, builds, subtracts, searches, params, candidates, candidateOffsets },
        { build, subtract, search },
        { candidates: kernelCandidates, candidateOffsets: kernelOffsets },
        out,
      );
      if (onLanes) {
        // The step ran on copied memory's lanes (#copiedStep).
      } else if (this.#parallel(large) && tasks > 1 && this.#stepPayoff.splits(cells)) {
        // Where split steps of this size have not paid, only a probe now and then (SplitPayoff).
        // Each lane starts on its own range of the features (the split learnt from the last
        // steps) and takes the others' leftovers once its own are done (see the kernel).
        const ranges = contiguousShares(featureCount, this.#growLanes.ends(tasks));
        // Each lane's claim record, then the gather's two counters (see the kernel).
        const claims = s.alloc(CLAIM_BYTES * tasks + 8);
        const words = s.i32(claims, (CLAIM_BYTES / 4) * tasks + 2);
        ranges.forEach(([k0, k1], i) => words.set([k0, k1, 0], (CLAIM_BYTES / 4) * i));
        words.set([0, 0], (CLAIM_BYTES / 4) * tasks);
        const start = performance.now();
        const lanes = await runtime.runSharing(
          ranges.map((_, i) => task(0, featureCount, i, claims, tasks)),
          undefined,
          FIT_STEP,
        );
        const wall = performance.now() - start;
        const ran = s.i32(claims, (CLAIM_BYTES / 4) * tasks);
        this.#growLanes.record(lanes, ran[CLAIM_RAN], featureCount);
        if (lanes.length > 0) {
          this.#stepPayoff.record(cells, wall, lanes[0], ran[CLAIM_RAN], featureCount);
        }
      } else {
        await runtime.runSharing([task(0, featureCount)], undefined, FIT_STEP);
      }
      const results = this.#withCategorical(
        step,
        search,
        s.f64(out, candidateCount * SPLIT_FIELD_COUNT),
        kernelOffsets,
      );
      for (let i = 0; i < searchCount; i++) {
        const from = step.candidateOffsets[i];
        const count = step.candidateOffsets[i + 1] - from;
        const found = results.subarray(from * SPLIT_FIELD_COUNT);
        const k = bestCandidate(found, count);
        const best = step.best.subarray(i * SPLIT_FIELD_COUNT, (i + 1) * SPLIT_FIELD_COUNT);
        if (k < 0) {
          best.fill(0);
          best[0] = -Infinity;
        } else best.set(found.subarray(k * SPLIT_FIELD_COUNT, (k + 1) * SPLIT_FIELD_COUNT));
        step.bestFeature[i] = k < 0 ? -1 : step.candidates[from + k];
      }
    });
  }

  /** The step's candidates without the categorical features (all of them without any). */
  #numeric(step: GrowthStep): { candidates: Int32Array; candidateOffsets: Int32Array } {
    const n = step.searchCount, mask = this.#categorical?.mask;
    const total = step.candidateOffsets[n];
    if (mask === undefined) {
      return { candidates: step.candidates, candidateOffsets: step.candidateOffsets };
    }
    const candidates = new Int32Array(Math.max(1, total));
    const candidateOffsets = new Int32Array(n + 1);
    let count = 0;
    for (let i = 0; i < n; i++) {
      for (let j = step.candidateOffsets[i]; j < step.candidateOffsets[i + 1]; j++) {
        if (mask[step.candidates[j]] !== 1) candidates[count++] = step.candidates[j];
      }
      candidateOffsets[i + 1] = count;
    }
    return { candidates, candidateOffsets };
  }

  /**
   * Per-candidate results in the step's candidate order: the kernel's for numeric features
   * (`kernel`, laid out by `kernelOffsets`), the reference's for categorical ones, searched on
   * views of the histograms in WASM memory.
   */
  #withCategorical(
    step: GrowthStep,
    search: Int32Array,
    kernel: Float64Array,
    kernelOffsets: Int32Array,
  ): Float64Array {
    const categorical = this.#categorical;
    if (categorical === null) return kernel;
    const F = SPLIT_FIELD_COUNT, C = this.#nChannels;
    const results = new Float64Array(Math.max(1, step.candidateOffsets[step.searchCount]) * F);
    const slots = this.#binOffsets[this.#binOffsets.length - 1];
    const one = new Int32Array(1);
    for (let i = 0; i < step.searchCount; i++) {
      let numeric = kernelOffsets[i];
      for (let j = step.candidateOffsets[i]; j < step.candidateOffsets[i + 1]; j++) {
        const f = step.candidates[j];
        if (categorical.mask[f] !== 1) {
          results.set(kernel.subarray(numeric * F, ++numeric * F), j * F);
          continue;
        }
        one[0] = f;
        findSplitsRef({
          hist: new Float64Array(this.#runtime.memory.buffer, search[i], slots * C),
          nChannels: C,
          features: one,
          featureCount: 1,
          binOffsets: this.#binOffsets,
          monotone: this.#monotoneMask,
          categorical,
          params: step.params.subarray(i * SPLIT_PARAM_COUNT, (i + 1) * SPLIT_PARAM_COUNT),
          out: results.subarray(j * F, (j + 1) * F),
        });
      }
    }
    return results;
  }

  partition(step: PartitionStep): Promise<void> {
    const { nodeCount } = step;
    if (nodeCount === 0) return Promise.resolve();
    const categorical = step.categorical;
    if (categorical === undefined || !categorical.subarray(0, nodeCount).includes(1)) {
      return this.#partitionNodes(step.nodes, nodeCount, step.nLeft);
    }
    // Nodes split on categorical features in TypeScript, on views of the workspace's memory;
    // the others by the kernel.
    const F = PARTITION_FIELD_COUNT;
    const numeric = new Int32Array(nodeCount * F), index: number[] = [];
    const memory = this.#runtime.memory.buffer;
    const rows = new Int32Array(memory, this.#rows, this.#nRows);
    const bins = new Uint8Array(memory, this.#bins, this.#nRows * (this.#binOffsets.length - 1));
    const scratch = new Int32Array(memory, this.#scratch, this.#nRows);
    for (let i = 0; i < nodeCount; i++) {
      const node = step.nodes.subarray(i * F, (i + 1) * F);
      if (categorical[i] !== 1) {
        numeric.set(node, index.length * F);
        index.push(i);
        continue;
      }
      step.nLeft[i] = partitionRef({
        bins,
        nRows: this.#nRows,
        rows,
        rowBegin: node[PARTITION_FIELD.rowBegin],
        rowEnd: node[PARTITION_FIELD.rowEnd],
        feature: node[PARTITION_FIELD.feature],
        splitBin: node[PARTITION_FIELD.splitBin],
        missingBin: node[PARTITION_FIELD.missingBin],
        defaultLeft: node[PARTITION_FIELD.defaultLeft],
        rightBins: step.rightBins!.subarray(i * BIN_SET_WORDS, (i + 1) * BIN_SET_WORDS),
        scratch,
      });
    }
    if (index.length === 0) return Promise.resolve();
    const nLeft = new Int32Array(index.length);
    return this.#partitionNodes(numeric, index.length, nLeft).then(() => {
      index.forEach((i, j) => step.nLeft[i] = nLeft[j]);
    });
  }

  /**
   * The kernel's partition of `nodeCount` numeric nodes: in this thread when the level is
   * small, else dealt by row ranges (see trees_partition_pieces), which keeps every thread busy
   * even on the root's single segment.
   */
  #partitionNodes(nodes: Int32Array, nodeCount: number, out: Int32Array): Promise<void> {
    const F = PARTITION_FIELD_COUNT;
    let total = 0;
    for (let i = 0; i < nodeCount; i++) {
      total += nodes[i * F + PARTITION_FIELD.rowEnd] - nodes[i * F + PARTITION_FIELD.rowBegin];
    }
    const runtime = this.#runtime;
    const parallel = this.#parallel(total >= MIN_PARALLEL_PARTITION_ROWS);
    return runtime.scope(async (s) => {
      const records = s.put(nodes.subarray(0, nodeCount * F));
      const nLeft = s.alloc(nodeCount * 4);
      if (!parallel) {
        runtime.call(
          "trees_partition_nodes",
          this.#rows,
          this.#scratch,
          this.#bins,
          records,
          nLeft,
          this.#nRows,
          0,
          nodeCount,
        );
      } else {
        const ends = this.#partitionLanes.ends(runtime.lanes());
        const { pieces, bounds } = partitionPieces(nodes, nodeCount, total, ends);
        const pieceCount = pieces.length / 3;
        const piecesAt = s.put(pieces);
        const pieceLeft = s.alloc(pieceCount * 4);
        const lanes = await runtime.runSharing(bounds.map(([p0, p1]) => ({
          kernel: "trees_partition_pieces",
          args: [
            this.#rows,
            this.#scratch,
            this.#bins,
            records,
            piecesAt,
            pieceLeft,
            this.#nRows,
            p0,
            p1,
          ],
          // Only run on shared memory (see #parallel): regions are not listed.
        })), undefined, FIT_STEP);
        let mine = 0;
        for (let p = 0; p < bounds[0][1]; p++) mine += pieces[3 * p + 2] - pieces[3 * p + 1];
        this.#partitionLanes.record(lanes, mine, total);
        runtime.call(
          "trees_partition_merge",
          this.#rows,
          this.#scratch,
          records,
          piecesAt,
          pieceLeft,
          nLeft,
          nodeCount,
          pieceCount,
        );
      }
      out.set(s.i32(nLeft, nodeCount));
    });
  }

  release(): void {
    for (const lent of this.#valueBuffers.splice(0)) lent.forget();
    this.#marginBuffer?.forget();
    this.#marginBuffer = null;
    for (const block of this.#blocks.splice(0)) this.#runtime.heap.free(block);
    this.#slots.length = 0;
  }

  /**
   * A step of a tree grown on copied memory's lanes (see CopiedGrowth): `task(k0, k1)` is the
   * step's kernel call for features[k0 .. k1), `at` the records' offsets in this memory,
   * `records` the records with histogram offsets for slots, `kernel` the kernel's candidates
   * (the numeric ones, see #numeric), `out` the results' offset. False where the worker's
   * memory could not grow at the tree's first step: nothing of the tree is there yet, so the
   * fit's trees grow in this thread from then on, this step too.
   */
  async #copiedStep(
    step: GrowthStep,
    task: (k0: number, k1: number) => Task,
    at: Record<
      | "features"
      | "builds"
      | "subtracts"
      | "searches"
      | "params"
      | "candidates"
      | "candidateOffsets",
      number
    >,
    records: { build: Int32Array; subtract: Int32Array; search: Int32Array },
    kernel: { candidates: Int32Array; candidateOffsets: Int32Array },
    out: number,
  ): Promise<boolean> {
    const runtime = this.#runtime, copied = this.#copied!;
    copied.check(runtime.workerLosses);
    // At a tree's first step the worker's memory grows to this memory's size, so that the
    // tree's later steps, which a failure could not give back to this thread, rarely grow it.
    const first = this.#treeSteps === 1, size = runtime.memory.buffer.byteLength;
    const { featureCount, buildCount, searchCount } = step;
    const { build, subtract, search } = records, { candidateOffsets } = kernel;
    const candidateCount = candidateOffsets[searchCount];
    const builds: [number, number, number][] = [];
    for (let o = 0; o < buildCount * BUILD_FIELD_COUNT; o += BUILD_FIELD_COUNT) {
      builds.push([
        build[o + BUILD_FIELD.slot],
        build[o + BUILD_FIELD.rowBegin],
        build[o + BUILD_FIELD.rowEnd],
      ]);
    }
    const regions: StepRegions = {
      records: [
        [at.features, Math.max(1, featureCount) * 4],
        [at.builds, build.byteLength],
        [at.subtracts, subtract.byteLength],
        [at.searches, search.byteLength],
        [at.params, searchCount * SPLIT_PARAM_COUNT * 8],
        [at.candidates, Math.max(1, candidateCount) * 4],
        [at.candidateOffsets, (searchCount + 1) * 4],
        [this.#offsets, this.#binOffsets.byteLength],
        ...(this.#monotone === 0 ? [] : [[this.#monotone, this.#binOffsets.length - 1] as const]),
      ],
      builds,
      hists: [...builds.map(([hist]) => hist), ...subtract, ...search],
      searches: Array.from({ length: searchCount }, (_, i) => [
        candidateOffsets[i],
        candidateOffsets[i + 1],
      ]),
      candidates: kernel.candidates,
      out,
    };
    const k = copied.featureRanges(step.features, featureCount);
    // Categorical features' split search runs here on this memory's histograms (#withCategorical):
    // those of a worker's range are built here too (their kernel candidates are none).
    const mask = this.#categorical?.mask;
    const meanwhile = mask === undefined ? undefined : () => {
      for (let k0 = k[1]; k0 < featureCount; k0++) {
        if (mask[step.features[k0]] !== 1) continue;
        let k1 = k0 + 1;
        while (k1 < featureCount && mask[step.features[k1]] === 1) k1++;
        runtime.call("trees_grow_step_f64", ...task(k0, k1).args);
        k0 = k1;
      }
    };
    let reply = NaN, lanes: number[];
    try {
      lanes = await runtime.runSharing(
        Array.from({ length: copied.lanes }, (_, l) => {
          const own = task(k[l], k[l + 1]);
          if (l === 0) return own;
          const theirs = copied.regions(own, l, k[l], k[l + 1], regions);
          return first ? { ...theirs, scratch: [...theirs.scratch ?? [], [0, size]] } : theirs;
        }),
        meanwhile,
        { ...FIT_STEP, copiedLane: true, received: (_, answer) => reply = answer.ms },
      );
    } catch (error) {
      if (!first || !(error instanceof RangeError)) throw error;
      this.#copiedTree = false;
      this.#copiedOff = true;
      return false;
    }
    // The worker's lane: its own time, and the messages' way there and back.
    if (lanes.length === 2) copied.record(lanes[0], reply + COPIED_MESSAGES_MS, k[1], featureCount);
    return true;
  }

  /**
   * Whether the tree whose first step is `cells` of work grows on the workers where memory is
   * copied (see CopiedGrowth): not where any feature's histograms are read back here (midpoint
   * thresholds; categorical features' are built here, see #copiedStep), nor for small trees or
   * fits of few trees, nor after a tree of small steps (loss-guided growth).
   */
  #beginCopiedTree(cells: number): boolean {
    const runtime = this.#runtime, lanes = Math.min(MAX_COPIED_GROWTH_LANES, runtime.lanes());
    if (runtime.shared || runtime.threads < 2 || lanes < 2) return false;
    if (this.#copiedOff || this.#readsHistograms || cells < MIN_COPIED_TREE_CELLS) return false;
    if (this.#lastStepCells < MIN_COPIED_STEP_CELLS || cells * this.#trees < MIN_COPIED_FIT_CELLS) {
      return false;
    }
    this.#copied ??= new CopiedGrowth(lanes, {
      bins: this.#bins,
      nRows: this.#nRows,
      nFeatures: this.#binOffsets.length - 1,
      values: () => [this.#current, this.#nRows * this.#nChannels * 8],
      rows: this.#rows,
      histBytes: this.#histBytes,
      gather: [this.#gather, this.#gatherRows * 16],
    }, runtime.workerLosses);
    this.#copied.beginTree(runtime.workerLosses);
    return true;
  }

  /**
   * Work goes to the workers only on shared memory: copying the bins to each would cost more
   * (for a large tree's growth steps where memory is copied, see #beginCopiedTree).
   */
  #parallel(large: boolean): boolean {
    return large && this.#runtime.shared && this.#runtime.threads > 1;
  }

  #alloc(bytes: number): number {
    const ptr = this.#runtime.heap.alloc(Math.max(1, bytes));
    this.#blocks.push(ptr);
    return ptr;
  }

  #put(data: Uint8Array | Int32Array): number {
    const ptr = this.#alloc(data.byteLength);
    new Uint8Array(this.#runtime.memory.buffer, ptr, data.byteLength).set(
      new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
    );
    return ptr;
  }

  #slot(slot: number): number {
    return this.#slots[slot] ??= this.#alloc(this.#histBytes);
  }
}

/**
 * Cuts the segments of a level's nodes into pieces for `threads` tasks of about equal row
 * counts: pieces (node, begin, end) in node order, and each task's range of pieces.
 */
export function partitionPieces(
  nodes: Int32Array,
  nodeCount: number,
  total: number,
  ends: number[],
): { pieces: Int32Array; bounds: [number, number][] } {
  const F = PARTITION_FIELD_COUNT;
  // Rows given to tasks 0 .. b once task b's share is full.
  const full = (b: number) => b >= ends.length - 1 ? total : Math.ceil(total * ends[b]);
  const pieces: number[] = [], bounds: [number, number][] = [];
  let taken = 0, first = 0;
  for (let i = 0; i < nodeCount; i++) {
    let begin = nodes[i * F + PARTITION_FIELD.rowBegin];
    const end = nodes[i * F + PARTITION_FIELD.rowEnd];
    while (begin < end) {
      // Rows still to give the current task before its share is full.
      const room = full(bounds.length) - taken;
      const cut = Math.min(end, begin + room);
      if (cut > begin) pieces.push(i, begin, cut);
      taken += cut - begin;
      begin = cut;
      if (taken >= full(bounds.length)) {
        bounds.push([first, pieces.length / 3]);
        first = pieces.length / 3;
      }
    }
  }
  if (first < pieces.length / 3) bounds.push([first, pieces.length / 3]);
  return { pieces: Int32Array.from(pieces), bounds };
}

type Place = (s: Scope, array: HostArray) => number;

/** Host views of WASM memory handed out by workspaces and cutBuffers, by view: their offsets. */
type AliasedView = Float64Array | Float32Array | Int32Array | Uint8Array;
type Aliases = WeakMap<AliasedView, number>;

/** Host views of a block of WASM memory (see blockViews). */
interface BlockViews<V extends AliasedView> {
  /** The current views: made again where the memory grew since the last ones. */
  views(): V[];
  /** Drops every view made from `aliases`. */
  forget(): void;
}

/**
 * The views `viewsOf` makes of `block`, known by their offsets in `aliases`. Shared memory's
 * never change as memory grows; unshared memory's are made again after it grew, and the old
 * ones, detached, still name the block to the kernels until `forget()`.
 */
function blockViews<V extends AliasedView>(
  runtime: WasmRuntime,
  block: number,
  aliases: Aliases,
  viewsOf: (buffer: ArrayBuffer, block: number) => V[],
): BlockViews<V> {
  const made: V[] = [];
  let buffer: ArrayBuffer | SharedArrayBuffer | null = null, current: V[] = [];
  const views = () => {
    if (buffer !== runtime.memory.buffer) {
      buffer = runtime.memory.buffer;
      current = viewsOf(buffer, block);
      current.forEach((view) => aliases.set(view, view.byteOffset));
      made.push(...current);
    }
    return current;
  };
  views();
  return { views, forget: () => made.forEach((view) => aliases.delete(view)) };
}

/**
 * Lends a block of `bytes` of WASM memory as the views `viewsOf` makes of it (blockViews) until
 * `release()` (once is enough) frees the block; null without room. Unshared memory lends only
 * with `unshared`, for callers that take `views()` again after every kernel call or hand the
 * views to kernels alone.
 */
function lendBlock(
  runtime: WasmRuntime,
  bytes: number,
  aliases: Aliases,
  viewsOf: (buffer: ArrayBuffer, block: number) => AliasedView[],
  unshared = false,
): { views(): AliasedView[]; release(): void } | null {
  if (!runtime.shared && !unshared) return null;
  let block: number;
  try {
    block = runtime.heap.alloc(bytes);
  } catch {
    return null;
  }
  // Made after the allocation, which may have grown memory.
  const lent = blockViews(runtime, block, aliases, viewsOf);
  let released = false;
  return {
    views: lent.views,
    release() {
      if (released) return;
      released = true;
      lent.forget();
      runtime.heap.free(block);
    },
  };
}

/**
 * TreesKernels.binBuffer: known to binOn and the workspace through `aliases` (lendBlock), on
 * unshared memory too, as only those kernels read it.
 */
function binBufferOn(runtime: WasmRuntime, cells: number, aliases: Aliases): LentBins | null {
  if (cells === 0) return null;
  const lent = lendBlock(
    runtime,
    cells,
    aliases,
    (buffer, block) => [new Uint8Array(buffer, block, cells)],
    true,
  );
  return lent && { bins: lent.views()[0] as Uint8Array, release: lent.release };
}

async function binOn(
  runtime: WasmRuntime,
  args: BinArgs,
  place: Place,
  parallel: boolean,
  aliases: Aliases,
): Promise<void> {
  const { nRows, nCols } = args;
  if (nRows === 0 || nCols === 0) return;
  const rowBytes = nCols * 4;
  // Bins lent by binBuffer are written where they lie: nothing is copied out.
  const lent = aliases.get(args.bins);
  // Before anything is allocated: the bin matrix (a byte per value of X) stays for the fit.
  runtime.checkFits({
    X: lent === undefined ? nRows * nCols : 0,
    binning: args.splitValues.byteLength + args.binOffsets.byteLength +
      2 * BIN_BLOCK_ROWS * rowBytes * runtime.threads,
  });
  await runtime.scope(async (s) => {
    const splitValues = place(s, args.splitValues);
    const binOffsets = place(s, args.binOffsets);
    const bins = lent ?? s.alloc(nRows * nCols);
    const lanes = parallel && nRows * nCols >= MIN_PARALLEL_CELLS ? runtime.lanes() : 1;
    // x moves in by blocks of rows, one buffer per task of a round: a copy of the whole input
    // would hold WASM memory at the input's size for the rest of the session.
    const rounds: [number, number][][] = [];
    for (let r0 = 0; r0 < nRows; r0 += lanes * BIN_BLOCK_ROWS) {
      const round: [number, number][] = [];
      for (let lo = r0; lo < nRows && round.length < lanes; lo += BIN_BLOCK_ROWS) {
        round.push([lo, Math.min(nRows, lo + BIN_BLOCK_ROWS)]);
      }
      rounds.push(round);
    }
    // Where rounds split, the copies overlap the work: this thread copies its own block while
    // the workers bin theirs, and the workers' next blocks once its own are binned, into a
    // second set of buffers (the workers still read the first).
    const sets = lanes > 1 && rounds.length > 1 ? 2 : 1;
    const blocks = Array.from(
      { length: sets },
      () => Array.from({ length: lanes }, () => s.alloc(BIN_BLOCK_ROWS * rowBytes)),
    );
    const copied = rounds.map((round) => round.map(() => false));
    const copyIn = (r: number, lane: number) => {
      if (r >= rounds.length || lane >= rounds[r].length || copied[r][lane]) return;
      const [lo, hi] = rounds[r][lane];
      s.u8(blocks[r % sets][lane], (hi - lo) * rowBytes).set(
        new Uint8Array(args.x.buffer, args.x.byteOffset + lo * rowBytes, (hi - lo) * rowBytes),
      );
      copied[r][lane] = true;
    };
    for (const [r, round] of rounds.entries()) {
      // A round of one task runs in this thread, after its copy.
      const split = round.length > 1;
      for (let lane = split ? 1 : 0; lane < round.length; lane++) copyIn(r, lane);
      const tasks: Task[] = round.map(([lo, hi], lane) => {
        const block = blocks[r % sets][lane];
        return {
          kernel: "trees_bin_f32",
          // The kernel reads row i at x + i·rowBytes: shift the block's offset to match.
          args: [bins, (block - lo * rowBytes) | 0, splitValues, binOffsets, nRows, nCols, lo, hi],
          inputs: [
            [block, (hi - lo) * rowBytes],
            [splitValues, args.splitValues.byteLength],
            [binOffsets, args.binOffsets.byteLength],
          ],
          // Each task writes its rows of every feature's column.
          outputs: Array.from(
            { length: nCols },
            (_, f) => [bins + f * nRows + lo, hi - lo] as const,
          ),
        };
      });
      await s.runSharing(tasks, () => copyIn(r, 0), {
        ...FIT_STEP,
        afterOwn: () => {
          for (let lane = 1; lane < lanes; lane++) copyIn(r + 1, lane);
        },
      });
      // No task runs here now; what runs meanwhile may grow the memory, and the blocks, the
      // tables and the bins are reached by offset only.
      if (r + 1 < rounds.length) await args.between?.();
    }
    if (lent === undefined) args.bins.set(s.u8(bins, nRows * nCols));
  });
}

/**
 * TreesKernels.cutBuffers: views of one block of WASM memory, known to sortDistinctOn through
 * `aliases` (lendBlock: made again after unshared memory grew); null without room.
 */
function cutBuffersOn(
  runtime: WasmRuntime,
  nRows: number,
  count: number,
  aliases: Aliases,
): CutBuffers | null {
  if (count === 0) return null;
  const bytes = nRows * 4;
  const lent = lendBlock(runtime, 2 * count * bytes, aliases, (buffer, block) => [
    ...Array.from({ length: count }, (_, j) => new Float32Array(buffer, block + j * bytes, nRows)),
    ...Array.from(
      { length: count },
      (_, j) => new Int32Array(buffer, block + (count + j) * bytes, nRows),
    ),
  ], true);
  if (lent === null) return null;
  return {
    get columns() {
      return lent.views().slice(0, count) as Float32Array[];
    },
    get tallies() {
      return lent.views().slice(count) as Int32Array[];
    },
    release: lent.release,
  };
}

/**
 * Each column sorted and deduplicated by its own task (trees_sort_distinct_f32), dealt across
 * this thread and the workers when there are enough values in all; results are the
 * reference's, whoever runs a column.
 */
async function sortDistinctOn(
  runtime: WasmRuntime,
  args: SortDistinctArgs,
  parallel: boolean,
  aliases: Aliases,
): Promise<void> {
  const { columns, lengths, counts, distinct } = args;
  const m = columns.length;
  if (m === 0) return;
  let total = 0;
  for (let j = 0; j < m; j++) total += lengths[j];
  // Values and counts (the sort's buffer too), 4 bytes each per value: where WASM memory cannot
  // hold them, the reference sorts here (the bin matrix, a byte per cell, may still fit; if
  // not, the binning that follows says so, naming "X").
  if (8 * total + m * (DIGIT_BYTES + 256) > runtime.heap.capacity) {
    sortDistinctColumnsRef(args);
    return;
  }
  // Columns and tallies lent by cutBuffers are sorted where they lie: nothing is copied.
  const inPlace = columns.every((c, j) => aliases.has(c) && aliases.has(counts[j]));
  await runtime.scope(async (s) => {
    const found = s.alloc(m * 4);
    const placed = columns.map((column, j) => {
      const n = lengths[j];
      return inPlace
        ? { values: aliases.get(column)!, counts: aliases.get(counts[j])!, n }
        : { values: s.put(column.subarray(0, n)), counts: s.alloc(n * 4), n };
    });
    const tasks: Task[] = placed.map(({ values, counts: tally, n }, j) => {
      const digits = s.alloc(DIGIT_BYTES);
      // The tallies are the sort's scratch too (the kernel allows it): no third array of n
      // values per column, ~6 MB of fresh memory to fault in for 8 columns of 200k rows.
      return {
        kernel: "trees_sort_distinct_f32",
        args: [values, n, tally, tally, digits, found + j * 4],
        inputs: [[values, n * 4]],
        outputs: [[values, n * 4], [tally, n * 4], [found + j * 4, 4]],
        scratch: [[digits, DIGIT_BYTES]],
      };
    });
    if (parallel && total >= MIN_PARALLEL_CELLS) await s.runSharing(tasks, undefined, FIT_STEP);
    else for (const task of tasks) runtime.call(task.kernel, ...task.args);
    const d = new Int32Array(runtime.memory.buffer, found, m).slice();
    placed.forEach(({ values, counts: tally }, j) => {
      distinct[j] = d[j];
      if (inPlace) return;
      columns[j].set(s.f32(values, d[j]));
      counts[j].set(new Int32Array(runtime.memory.buffer, tally, d[j]));
    });
  });
}

/** Digit counts of trees_sort_distinct_f32: 3 × 2048 i32. */
const DIGIT_BYTES = 3 * 2048 * 4;

async function histogramOn(
  runtime: WasmRuntime,
  args: HistogramArgs,
  place: Place,
  parallel: boolean,
): Promise<void> {
  const { nRows, rowBegin, rowEnd, nChannels: C, featureCount } = args;
  if (featureCount === 0) return;
  const count = rowEnd - rowBegin;
  await runtime.scope(async (s) => {
    const bins = place(s, args.bins);
    const values = place(s, args.values);
    const binOffsets = place(s, args.binOffsets);
    const rows = s.put(args.rows.subarray(rowBegin, rowEnd));
    const features = s.put(args.features.subarray(0, featureCount));
    const slots = args.binOffsets[args.binOffsets.length - 1];
    const hist = s.alloc(Math.max(1, slots * C * 8));
    const split = parallel && count * featureCount >= MIN_PARALLEL_CELLS;
    const tasks: Task[] = ranges(featureCount, runtime.lanes(), split).map(([k0, k1]) => ({
      kernel: "trees_hist_build_f64",
      args: [hist, bins, rows, values, binOffsets, features, nRows, 0, count, C, k0, k1],
      // Only written in shared memory, where regions are documentation: each task owns the
      // slots of its own features.
      outputs: [],
    }));
    await s.runSharing(tasks, undefined, FIT_STEP);
    const view = s.f64(hist, slots * C);
    for (let k = 0; k < featureCount; k++) {
      const f = args.features[k];
      const from = args.binOffsets[f] * C, to = args.binOffsets[f + 1] * C;
      args.hist.set(view.subarray(from, to), from);
    }
  });
}

async function subtractOn(runtime: WasmRuntime, args: SubtractArgs, place: Place): Promise<void> {
  const { nChannels: C, featureCount } = args;
  if (featureCount === 0) return;
  await runtime.scope((s) => {
    const slots = args.binOffsets[args.binOffsets.length - 1];
    const parent = place(s, args.parent.subarray(0, slots * C));
    const child = place(s, args.child.subarray(0, slots * C));
    const out = s.alloc(slots * C * 8);
    const binOffsets = place(s, args.binOffsets);
    const features = s.put(args.features.subarray(0, featureCount));
    runtime.call(
      "trees_hist_subtract_f64",
      out,
      parent,
      child,
      binOffsets,
      features,
      C,
      0,
      featureCount,
    );
    const view = s.f64(out, slots * C);
    for (let k = 0; k < featureCount; k++) {
      const f = args.features[k];
      const from = args.binOffsets[f] * C, to = args.binOffsets[f + 1] * C;
      args.out.set(view.subarray(from, to), from);
    }
  });
}

async function splitsOn(runtime: WasmRuntime, args: SplitArgs, place: Place): Promise<void> {
  const { featureCount } = args;
  if (featureCount === 0) return;
  await runtime.scope((s) => {
    const slots = args.binOffsets[args.binOffsets.length - 1];
    const hist = place(s, args.hist.subarray(0, slots * args.nChannels));
    const binOffsets = place(s, args.binOffsets);
    const features = s.put(args.features.subarray(0, featureCount));
    const monotone = args.monotone === null
      ? 0
      : s.put(Uint8Array.from(args.monotone, (v) => v & 0xff));
    const params = s.put(args.params);
    const out = s.alloc(featureCount * SPLIT_FIELD_COUNT * 8);
    runtime.call(
      "trees_find_splits_f64",
      out,
      hist,
      binOffsets,
      features,
      monotone,
      params,
      args.nChannels,
      0,
      featureCount,
    );
    args.out.set(s.f64(out, featureCount * SPLIT_FIELD_COUNT));
  });
}

async function partitionOn(
  runtime: WasmRuntime,
  args: PartitionArgs,
  place: Place,
): Promise<number> {
  const count = args.rowEnd - args.rowBegin;
  if (count === 0) return 0;
  return await runtime.scope((s) => {
    const bins = place(s, args.bins);
    const rows = s.put(args.rows.subarray(args.rowBegin, args.rowEnd));
    const scratch = s.alloc(count * 4);
    const nLeft = runtime.call(
      "trees_partition",
      rows,
      scratch,
      bins,
      args.nRows,
      0,
      count,
      args.feature,
      args.splitBin,
      args.missingBin,
      args.defaultLeft,
    );
    args.rows.set(s.i32(rows, count), args.rowBegin);
    return nLeft;
  });
}

/** `cats`: the category sets of categorical nodes ([word count][words…] each), or null. */
type PackedModel = { nodes: Int32Array; depth: Int32Array; cats: Int32Array | null };

/**
 * Packed models by their arrays. A fitted model's arrays are never written again (refits,
 * pruning and boosting rounds make new ones), so predicting with the same model reuses its
 * packing: for a 100-tree forest of fully grown trees the packing cost a fifth of a predict call.
 */
const packed = new WeakMap<Int32Array, { of: ModelArrays; model: PackedModel }>();

/** The arrays a packing is made from (kept by reference, not the call's inputs and outputs). */
type ModelArrays = Pick<
  PredictArgs,
  "threshold" | "defaultLeft" | "left" | "right" | "treeStart" | "categories"
>;

/**
 * The model as the prediction kernel walks it (see assembly/trees.ts): 16 bytes per node, leaves
 * pointing to themselves, and each tree's depth.
 */
export function packModel(args: PredictArgs): PackedModel {
  const { threshold, defaultLeft, left, right, treeStart, categories } = args;
  const hit = packed.get(args.feature);
  if (
    hit !== undefined && hit.of.threshold === threshold && hit.of.left === left &&
    hit.of.right === right && hit.of.defaultLeft === defaultLeft &&
    hit.of.treeStart === treeStart && hit.of.categories === categories
  ) {
    return hit.model;
  }
  const model = packModelAnew(args);
  packed.set(args.feature, {
    of: { threshold, defaultLeft, left, right, treeStart, categories },
    model,
  });
  return model;
}

function packModelAnew(args: PredictArgs): PackedModel {
  const { feature, threshold, defaultLeft, left, right, treeStart } = args;
  const nNodes = feature.length, nTrees = treeStart.length - 1;
  const nodes = new Int32Array(nNodes * 4);
  const thresholds = new Float32Array(nodes.buffer);
  const level = new Int32Array(nNodes);
  const depth = new Int32Array(Math.max(0, nTrees));
  const cats = args.categories;
  const catWords: number[] = [];
  for (let t = 0; t < nTrees; t++) {
    let deepest = 0;
    for (let i = treeStart[t]; i < treeStart[t + 1]; i++) {
      const o = i * 4;
      if (feature[i] < 0) {
        nodes[o] = nodes[o + 1] = i << 4;
        continue;
      }
      nodes[o] = left[i] << 4;
      nodes[o + 1] = right[i] << 4;
      nodes[o + 2] = (feature[i] << 2) | (defaultLeft[i] ? 0x80000000 : 0);
      thresholds[o + 3] = threshold[i];
      if (cats !== undefined && cats.splitType[i] === 1) {
        nodes[o + 2] |= 0x40000000;
        nodes[o + 3] = catWords.length;
        const begin = cats.catBegin[i], end = cats.catBegin[i + 1];
        catWords.push(end - begin);
        for (let w = begin; w < end; w++) catWords.push(cats.catBits[w] | 0);
      }
      // Children come after their parent within a tree, so a forward pass sees parents first.
      level[left[i]] = level[right[i]] = level[i] + 1;
      deepest = Math.max(deepest, level[i] + 1);
    }
    depth[t] = deepest;
  }
  return { nodes, depth, cats: catWords.length > 0 ? Int32Array.from(catWords) : null };
}

const align64 = (bytes: number) => Math.ceil(bytes / 64) * 64;

/**
 * Prediction in one task, in this thread and synchronously: the rows, the model's arrays and the
 * outputs in one block of WASM memory, written and read through views of the whole memory that
 * are kept between calls. Small predict calls are what a server makes all day, and their garbage
 * (a scope, seven blocks, their views, the task lists) is what grows a process's young generation.
 */
class InThreadPredict {
  readonly #runtime: WasmRuntime;
  readonly #resident: Map<ResidentArray, Resident>;
  #f32: Float32Array | null = null;
  #i32: Int32Array | null = null;

  constructor(runtime: WasmRuntime, resident: Map<ResidentArray, Resident>) {
    this.#runtime = runtime;
    this.#resident = resident;
  }

  run(args: PredictArgs, firstRow: number, rowCount: number, packed = packModel(args)): void {
    const { nCols, nOutputs } = args;
    const xResident = this.#resident.get(args.x as ResidentArray)?.ptr;
    const xBytes = rowCount * nCols * 4, outBytes = rowCount * nOutputs * 4;
    const model = [packed.nodes, args.value, args.treeStart, packed.depth, args.treeGroup];
    if (packed.cats !== null) model.push(packed.cats);
    let bytes = (xResident === undefined ? align64(xBytes) : 0) + align64(outBytes);
    for (const array of model) {
      if (!this.#resident.has(array as ResidentArray)) bytes += align64(array.byteLength);
    }
    const block = this.#runtime.heap.alloc(bytes);
    try {
      this.#views();
      const f32 = this.#f32!;
      let next = block;
      const out = next;
      next += align64(outBytes);
      f32.set(args.out.subarray(firstRow * nOutputs, (firstRow + rowCount) * nOutputs), out >> 2);
      let rowsOfX: number;
      if (xResident === undefined) {
        rowsOfX = next;
        next += align64(xBytes);
        f32.set(args.x.subarray(firstRow * nCols, (firstRow + rowCount) * nCols), rowsOfX >> 2);
      } else rowsOfX = xResident + firstRow * nCols * 4;
      const at = model.map((array) => {
        const ptr = this.#resident.get(array as ResidentArray)?.ptr;
        if (ptr !== undefined) return ptr;
        const here = next;
        next += align64(array.byteLength);
        if (array instanceof Float32Array) f32.set(array, here >> 2);
        else this.#i32!.set(array, here >> 2);
        return here;
      });
      if (packed.cats === null) at.push(0);
      this.#runtime.call(
        "trees_predict_f32",
        out,
        rowsOfX,
        ...at,
        nCols,
        args.leafWidth,
        nOutputs,
        args.treeBegin,
        args.treeEnd,
        0,
        rowCount,
      );
      args.out.set(f32.subarray(out >> 2, (out + outBytes) >> 2), firstRow * nOutputs);
    } finally {
      this.#runtime.heap.free(block);
    }
  }

  /** Renews the views when the memory's buffer changed (it grew). */
  #views(): void {
    const buffer = this.#runtime.memory.buffer;
    if (this.#f32?.buffer !== buffer) {
      this.#f32 = new Float32Array(buffer);
      this.#i32 = new Int32Array(buffer);
    }
  }
}

async function predictOn(
  runtime: WasmRuntime,
  args: PredictArgs,
  place: Place,
  parallel: boolean,
  firstRow = 0,
  rowCount = args.nRows - firstRow,
  here?: InThreadPredict,
): Promise<void> {
  const { nCols, nOutputs } = args;
  if (rowCount === 0 || args.treeEnd <= args.treeBegin) return;
  const packed = packModel(args);
  const model = [packed.nodes, args.value, args.treeStart, packed.depth, args.treeGroup];
  if (packed.cats !== null) model.push(packed.cats);
  // Before anything is allocated: X's rows and their outputs, then the model.
  runtime.checkFits({
    X: args.x.byteLength + rowCount * nOutputs * 4,
    model: model.reduce((sum, a) => sum + a.byteLength, 0),
  });
  if (here !== undefined && !(parallel && rowCount >= MIN_PARALLEL_ROWS)) {
    return here.run(args, firstRow, rowCount, packed);
  }
  await runtime.scope(async (s) => {
    const x = place(s, args.x);
    const at = model.map((a) => place(s, a));
    if (packed.cats === null) at.push(0);
    const outBytes = rowCount * nOutputs * 4;
    const out = s.put(args.out.subarray(firstRow * nOutputs, (firstRow + rowCount) * nOutputs));
    const modelRegions = model.map((a, i) => [at[i], a.byteLength] as const);
    // `out` holds rows [firstRow, firstRow + rowCount): shift x so both are indexed from 0.
    const rowsOfX = x + firstRow * nCols * 4;
    const split = parallel && rowCount >= MIN_PARALLEL_ROWS;
    const lanes = split ? runtime.lanes() : 1;
    const step = Math.ceil(rowCount / lanes);
    const bounds = Array.from(
      { length: lanes },
      (_, i) => [Math.min(rowCount, i * step), Math.min(rowCount, (i + 1) * step)] as const,
    );
    const tasks: Task[] = bounds.map(([r0, r1]) => ({
      kernel: "trees_predict_f32",
      args: [
        out,
        rowsOfX,
        ...at,
        nCols,
        args.leafWidth,
        nOutputs,
        args.treeBegin,
        args.treeEnd,
        r0,
        r1,
      ],
      inputs: [[rowsOfX + r0 * nCols * 4, (r1 - r0) * nCols * 4], ...modelRegions, [
        out + r0 * nOutputs * 4,
        (r1 - r0) * nOutputs * 4,
      ]],
      outputs: [[out + r0 * nOutputs * 4, (r1 - r0) * nOutputs * 4]],
    }));
    // Where memory is copied, this thread takes a lane of a short call (see laneOnCopied): each
    // row walks every tree of the range to its depth.
    let levels = 0;
    for (let t = args.treeBegin; t < args.treeEnd; t++) levels += packed.depth[t] + 1;
    const copiedLane = split && runtime.laneOnCopied(rowCount * levels * PREDICT_STEP_FLOPS);
    await runtime.runSharing(tasks, undefined, { copiedLane }); // one task (unsplit): this thread
    args.out.set(s.f32(out, outBytes / 4), firstRow * nOutputs);
  });
}

/**
 * Bytes of TreeSHAP scratch for trees up to `maxDepth` deep (see assembly/tree_shap.ts): the
 * table of 1 / k, then the path entries.
 */
function shapScratchBytes(maxDepth: number): number {
  const levels = maxDepth + 3;
  return (levels + 1) * 8 + ((levels * (levels + 1)) / 2 + 1) * 32;
}

/**
 * TreeSHAP over row ranges, one task each (a row costs a whole walk of every tree: even a few
 * rows are worth a worker round trip), each with its own path scratch.
 */
async function shapOn(
  runtime: WasmRuntime,
  args: ShapArgs,
  place: Place,
  parallel: boolean,
  firstRow = 0,
  rowCount = args.nRows - firstRow,
): Promise<void> {
  const { nCols, nOutputs } = args;
  if (rowCount === 0 || args.treeEnd <= args.treeBegin) return;
  const width = nOutputs * (nCols + 1);
  const model: HostArray[] = [
    args.feature,
    args.threshold,
    args.defaultLeft,
    args.left,
    args.right,
    args.value,
    args.cover,
    args.treeStart,
    args.treeGroup,
  ];
  const cats = args.categories;
  if (cats !== undefined) model.push(cats.splitType, cats.catBegin, cats.catBits);
  const minRows = runtime.shared ? MIN_PARALLEL_SHAP_ROWS : MIN_COPIED_PARALLEL_SHAP_ROWS;
  const bounds = ranges(rowCount, runtime.lanes(), parallel && rowCount >= minRows);
  const scratchBytes = shapScratchBytes(args.maxDepth);
  // Before anything is allocated: X's rows and their contributions, then the model.
  runtime.checkFits({
    X: rowCount * (nCols * 4 + width * 8),
    model: model.reduce((sum, a) => sum + a.byteLength, 0) + scratchBytes * bounds.length,
  });
  await runtime.scope(async (s) => {
    const xRows = args.x.subarray(firstRow * nCols, (firstRow + rowCount) * nCols);
    const x = s.put(xRows);
    const at = model.map((a) => place(s, a));
    if (cats === undefined) at.push(0, 0, 0);
    const modelRegions = model.map((a, i) => [at[i], a.byteLength] as const);
    const out = s.put(args.out.subarray(firstRow * width, (firstRow + rowCount) * width));
    const scratch = s.alloc(scratchBytes * bounds.length);
    const tasks: Task[] = bounds.map(([r0, r1], i) => ({
      kernel: "trees_shap_f64",
      args: [
        out,
        x,
        ...at,
        scratch + i * scratchBytes,
        args.maxDepth,
        nCols,
        args.leafWidth,
        nOutputs,
        args.treeBegin,
        args.treeEnd,
        args.condition,
        args.conditionFeature,
        r0,
        r1,
      ],
      inputs: [[x + r0 * nCols * 4, (r1 - r0) * nCols * 4], ...modelRegions, [
        out + r0 * width * 8,
        (r1 - r0) * width * 8,
      ]],
      outputs: [[out + r0 * width * 8, (r1 - r0) * width * 8]],
      scratch: [[scratch + i * scratchBytes, scratchBytes]],
    }));
    await runtime.runSharing(tasks);
    args.out.set(s.f64(out, rowCount * width), firstRow * width);
  });
}
