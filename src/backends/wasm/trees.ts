/**
 * The `trees` kernel family on the WASM runtime (assembly/trees.ts). Arrays announced with
 * `retain` (the bin matrix for a fit, the gradients for a tree) are copied into WASM memory
 * once and found again by identity; everything else is copied in per call. Histograms are
 * dealt to the workers by feature groups when memory is shared: each task writes its own
 * features' slots, and each feature's sum runs over the rows in order, so results are
 * bit-identical to the reference for any thread count.
 *
 * @module
 */
import type { HostArray, Scope, Task, WasmRuntime } from "../../runtime/_wasm.ts";
import type {
  BinArgs,
  HistogramArgs,
  PartitionArgs,
  PredictArgs,
  ResidentArray,
  SplitArgs,
  SubtractArgs,
  TreesKernels,
} from "../trees.ts";
import { SPLIT_FIELD_COUNT } from "../trees.ts";

/** Below this many (row, feature) cells a histogram stays in one task. */
const MIN_PARALLEL_CELLS = 1 << 17;
/** Rows binned per kernel call. */
const BIN_BLOCK_ROWS = 8192;
/** Below this many rows prediction stays in one task. */
const MIN_PARALLEL_ROWS = 4096;

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

  /** The array's offset: its resident copy, or a fresh copy owned by the scope. */
  const place = (s: Scope, array: HostArray): number =>
    resident.get(array as ResidentArray)?.ptr ?? s.put(array);
  // Feature groups and row blocks go to workers only on shared memory; copying the bin matrix
  // into every worker would cost more than the work.
  const canSplit = () => runtime.shared && runtime.threads > 1;

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

    binFeatures: (args) => binOn(runtime, args, place, canSplit()),
    buildHistogram: (args) => histogramOn(runtime, args, place, canSplit()),
    subtractHistogram: (args) => subtractOn(runtime, args, place),
    findSplits: (args) => splitsOn(runtime, args, place),
    partition: (args) => partitionOn(runtime, args, place),
    predict: (args, firstRow, rowCount) =>
      predictOn(runtime, args, place, canSplit(), firstRow, rowCount),
  };
}

type Place = (s: Scope, array: HostArray) => number;

async function binOn(
  runtime: WasmRuntime,
  args: BinArgs,
  place: Place,
  parallel: boolean,
): Promise<void> {
  const { nRows, nCols } = args;
  if (nRows === 0 || nCols === 0) return;
  await runtime.scope(async (s) => {
    const x = place(s, args.x);
    const splitValues = place(s, args.splitValues);
    const binOffsets = place(s, args.binOffsets);
    const bins = s.alloc(nRows * nCols);
    const split = parallel && nRows * nCols >= MIN_PARALLEL_CELLS;
    // Blocks of rows, so one long call does not stay in the engine's baseline tier: compiled
    // WASM code is swapped in between calls, never inside one.
    const blocks = ranges(nRows, runtime.threads, split).flatMap(([r0, r1]) => {
      const out: [number, number][] = [];
      for (let lo = r0; lo < r1; lo += BIN_BLOCK_ROWS) {
        out.push([lo, Math.min(r1, lo + BIN_BLOCK_ROWS)]);
      }
      return out;
    });
    const tasks: Task[] = blocks.map(([r0, r1]) => ({
      kernel: "trees_bin_f32",
      args: [bins, x, splitValues, binOffsets, nRows, nCols, r0, r1],
      inputs: [
        [x + r0 * nCols * 4, (r1 - r0) * nCols * 4],
        [splitValues, args.splitValues.byteLength],
        [binOffsets, args.binOffsets.byteLength],
      ],
      // Each task writes its rows of every feature's column.
      outputs: Array.from({ length: nCols }, (_, f) => [bins + f * nRows + r0, r1 - r0] as const),
    }));
    await s.run(tasks);
    args.bins.set(s.u8(bins, nRows * nCols));
  });
}

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
    const tasks: Task[] = ranges(featureCount, runtime.threads, split).map(([k0, k1]) => ({
      kernel: "trees_hist_build_f64",
      args: [hist, bins, rows, values, binOffsets, features, nRows, 0, count, C, k0, k1],
      // Only written in shared memory, where regions are documentation: each task owns the
      // slots of its own features.
      outputs: [],
    }));
    await s.run(tasks);
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

async function predictOn(
  runtime: WasmRuntime,
  args: PredictArgs,
  place: Place,
  parallel: boolean,
  firstRow = 0,
  rowCount = args.nRows - firstRow,
): Promise<void> {
  const { nCols, nOutputs } = args;
  if (rowCount === 0 || args.treeEnd <= args.treeBegin) return;
  await runtime.scope(async (s) => {
    const x = place(s, args.x);
    const model = [
      args.feature,
      args.threshold,
      args.defaultLeft,
      args.left,
      args.right,
      args.value,
      args.treeStart,
      args.treeGroup,
    ].map((a) => place(s, a));
    const outBytes = rowCount * nOutputs * 4;
    const out = s.put(args.out.subarray(firstRow * nOutputs, (firstRow + rowCount) * nOutputs));
    const modelRegions = [
      args.feature,
      args.threshold,
      args.defaultLeft,
      args.left,
      args.right,
      args.value,
      args.treeStart,
      args.treeGroup,
    ].map((a, i) => [model[i], a.byteLength] as const);
    // `out` holds rows [firstRow, firstRow + rowCount): shift x so both are indexed from 0.
    const rowsOfX = x + firstRow * nCols * 4;
    const split = parallel && rowCount >= MIN_PARALLEL_ROWS;
    const tasks: Task[] = ranges(rowCount, runtime.threads, split).map(([r0, r1]) => ({
      kernel: "trees_predict_f32",
      args: [
        out,
        rowsOfX,
        ...model,
        nCols,
        args.leafWidth,
        nOutputs,
        args.treeBegin,
        args.treeEnd,
        r0,
        r1,
      ],
      inputs: [[x, args.x.byteLength], ...modelRegions, [
        out + r0 * nOutputs * 4,
        (r1 - r0) * nOutputs * 4,
      ]],
      outputs: [[out + r0 * nOutputs * 4, (r1 - r0) * nOutputs * 4]],
    }));
    await s.run(tasks);
    args.out.set(s.f32(out, outBytes / 4), firstRow * nOutputs);
  });
}
