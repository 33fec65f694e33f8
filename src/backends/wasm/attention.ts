/**
 * The attention family on the WASM runtime (assembly/attention.ts). Inputs are copied into
 * WASM memory once per call; the work items of the call are cut into contiguous ranges, one
 * task each, dealt across the worker pool. Every task has its own scratch, and each item is
 * computed the same way whichever task runs it, so results are bit-identical for any thread
 * count.
 *
 * ```
 *  items  [first ............................................ end)
 *  tasks  [ t0 ][ t1 ][ t2 ][ t3 ][ t4 ][ t5 ][ t6 ][ t7 ]    ≈ 4 per thread, round-robin
 *  rows   each range of items owns a contiguous run of output rows
 * ```
 *
 * On shared memory a call that splits instead runs one task a thread over every item, each lane
 * claiming the next item as it goes (see runTasks).
 *
 * @module
 */
import {
  attentionBackend,
  type AttentionKernels,
  type FlashForwardArgs,
  flashRows,
  type LinearForwardArgs,
  type MixedChunkArgs,
} from "../attention.ts";
import type { StagedReply } from "../../runtime/_task.ts";
import {
  type Region,
  type Scope,
  type Task,
  touchPages,
  type WasmRuntime,
} from "../../runtime/_wasm.ts";
import { contiguousShares, type FaultShares, faultShares, freshResult } from "./_lanes.ts";

/**
 * Up to this many flops (2^26: SDPA at N ≈ 180, H = 8, D = 64) a call stays one task. Measured
 * (bench/threads_bench.ts, Deno, 2 threads / 1, medians of 3 alternating rounds): split, N = 64
 * (8.4 MFLOP) ran at 0.66× and N = 128 (34 MFLOP) at 0.72×; N = 256 (134 MFLOP) gains 1.3–1.5×.
 */
const MIN_PARALLEL_FLOPS = 1 << 26;
/** Tasks per thread: several, so that causal items of unequal cost even out round-robin. */
const TASKS_PER_THREAD = 4;

/**
 * Cuts [first, end) into contiguous ranges, one per task: one a lane where this thread takes a
 * lane on copied memory (`copiedLane`, see WasmRuntime.laneOnCopied). Where memory is copied (a
 * page without cross-origin isolation), each worker's rows travel to it and back: left to the
 * workers alone, N = 256 (2^27 flops) ran at 0.88× of one thread in Chromium, so a call splits
 * there only with this thread's lane (up to 2^28 flops a lane: N = 256 1.40×, N = 192 1.35×) or
 * when far longer.
 */
function splitItems(
  first: number,
  end: number,
  lanes: number,
  flops: number,
  copiedLane: boolean,
): Array<[number, number]> {
  const count = end - first;
  const tasks = lanes === 1 || flops < MIN_PARALLEL_FLOPS
    ? 1
    : Math.min(count, lanes * (copiedLane ? 1 : TASKS_PER_THREAD));
  return Array.from({ length: tasks }, (_, t) => [
    first + Math.floor((count * t) / tasks),
    first + Math.floor((count * (t + 1)) / tasks),
  ]);
}

/** Per-task scratch, rounded to cache lines; returns each task's offset. */
function scratchFor(s: Scope, bytes: number, tasks: number): { offsets: number[]; bytes: number } {
  const stride = Math.ceil(bytes / 64) * 64;
  const base = s.alloc(stride * tasks);
  return { offsets: Array.from({ length: tasks }, (_, t) => base + t * stride), bytes: stride };
}

/** What one task of a call passes its kernel and which memory the kernel reads and writes. */
interface TaskPlan {
  args: number[];
  inputs: Region[];
  outputs: Region[];
}

/** A call's flops, each task's scratch, and how it shares out its faults (see runTasks). */
interface TaskCost {
  flops: number;
  scratchBytes: number;
  shares: FaultShares;
}

/** Plans the task of items [lo, hi), whose scratch starts at `scratch`. */
type TaskPlanner = (lo: number, hi: number, scratch: number) => TaskPlan;

/**
 * Runs `kernel` over the items [first, end): cuts them into tasks (splitItems), gives each
 * task its own `scratchBytes` of scratch and the arguments and regions `plan` makes for it.
 * `output`, the fresh array the results are copied into, is faulted in while workers compute;
 * where this thread takes a lane on copied memory it does so first, and its lane is then sized
 * (`shares.page`, learnt from the last calls) so that it ends with the workers' lanes: an even lane
 * ended last (Chromium, a plain page, N = 512 on two threads: see README).
 *
 * Where `outputAt` is given, `output` is the whole of a fresh result whose rows lie at that
 * address in WASM memory. On copied memory, where the workers take all the lanes, the first
 * worker then faults in a fresh array of the whole result (Task.fresh, as for matmul: see
 * src/backends/wasm/matmul.ts, workerRows) and the call resolves to that array, the other rows
 * copied into it, instead of writing `output`; only where this thread's fresh arrays fault in
 * at all (FreshFaults).
 *
 * Every kernel of the family takes a claim word last (see flash_forward_f32): a call that
 * splits on shared memory is one task a thread instead, each over the whole range, and the
 * lanes claim its items one at a time, so that none waits at the end for a lane that ran
 * slower (its core shared: four threads on two cores, this thread faulting in the output
 * meanwhile, a busy host, efficiency cores). Elsewhere the word is 0 (each task its range).
 */
async function runTasks(
  s: Scope,
  kernel: string,
  [first, end]: [number, number],
  { flops, scratchBytes, shares }: TaskCost,
  plan: TaskPlanner,
  output?: Float32Array,
  outputAt?: number,
): Promise<Float32Array | undefined> {
  const { runtime } = s;
  // The lanes the call is cut for (see WasmRuntime.splitLanes).
  const lanes = runtime.splitLanes();
  const copiedLane = runtime.laneOnCopied(flops);
  const pages = output === undefined ? 0 : Math.ceil(output.length / 1024);
  let ranges = splitItems(first, end, lanes, flops, copiedLane);
  if (copiedLane && pages > 0 && ranges.length > 1) {
    const fraction = shares.page.fraction(ranges.length, flops, pages);
    ranges = callerFirst(first, end, fraction, ranges.length);
  }
  // One lane a worker, each of at least one item.
  const workerMayFault = outputAt !== undefined && pages > 0 && !runtime.shared && !copiedLane &&
    ranges.length > 1 && end - first >= lanes;
  const toWorker = workerMayFault && shares.faults.toWorker();
  if (toWorker) {
    const fraction = shares.worker.fraction(lanes, flops, pages);
    ranges = callerFirst(first, end, fraction, lanes);
  }
  const claim = s.runtime.shared && ranges.length > 1 ? s.zeros(4) : 0;
  if (claim !== 0) {
    ranges = Array.from({ length: Math.min(lanes, ranges.length) }, () => [first, end]);
  }
  const scratch = scratchFor(s, scratchBytes, ranges.length);
  const tasks: Task[] = ranges.map(([lo, hi], t) => {
    const task = plan(lo, hi, scratch.offsets[t]);
    task.args.push(claim);
    return { kernel, ...task, scratch: [[scratch.offsets[t], scratch.bytes]] as Region[] };
  });
  if (toWorker) {
    tasks[0].fresh = { bytes: output!.byteLength, at: tasks[0].outputs![0][0] - outputAt! };
  }
  const replies = new Map<Task, StagedReply>();
  let touchMs = 0;
  const touch = () => void (touchMs = touchPages(output!));
  const laneMs = await s.runSharing(tasks, output === undefined || toWorker ? undefined : touch, {
    copiedLane,
    received: (task, reply) => replies.set(task, reply),
  });
  const laneFlops = ranges.map(([lo, hi]) => (hi - lo) * flops / (end - first));
  if (copiedLane && pages > 0 && laneMs.length === ranges.length) {
    shares.page.record(touchMs, pages, laneMs, laneFlops);
  }
  if (toWorker) return freshResult(s, tasks, replies, outputAt!, shares.worker, laneFlops);
  if (workerMayFault) shares.faults.record(touchMs, pages);
  return undefined;
}

/**
 * [first, end) cut into `lanes` ranges (contiguousShares): this thread's first, a `fraction` of
 * the items (at least one), then the rest evenly.
 */
export function callerFirst(
  first: number,
  end: number,
  fraction: number,
  lanes: number,
): Array<[number, number]> {
  const ends = Array.from(
    { length: lanes },
    (_, t) => fraction + ((1 - fraction) * t) / (lanes - 1),
  );
  return contiguousShares(end - first, ends).map(([lo, hi]) => [first + lo, first + hi]);
}

/**
 * The first key/value row and row count that the (batch, head) pairs [firstHead, lastHead]
 * read: consecutive query heads map to non-decreasing key/value heads, so the rows are one run.
 */
function kvRows(
  firstHead: number,
  lastHead: number,
  dims: { heads: number; kvHeads: number },
  keyLength: number,
): [number, number] {
  const kvIndex = (bh: number) => {
    const h = bh % dims.heads, b = (bh - h) / dims.heads;
    return b * dims.kvHeads + Math.floor(h / (dims.heads / dims.kvHeads));
  };
  const first = kvIndex(firstHead), last = kvIndex(lastHead);
  return [first * keyLength, (last - first + 1) * keyLength];
}

/** The region of `count` rows of `width` floats starting at row `first` of a buffer. */
function rows(offset: number, first: number, count: number, width: number): Region {
  return [offset + first * width * 4, count * width * 4];
}

/** The offsets of q, k and v in WASM memory. */
interface QueryKeyValue {
  q: number;
  k: number;
  v: number;
}

/**
 * Throws a RangeError naming the biggest buffer when the call cannot fit in WASM memory, before
 * anything is allocated (every buffer is copied in whole, whatever the item range).
 */
function checkFits(runtime: WasmRuntime, buffers: Record<string, Float32Array | null>): void {
  const bytes = Object.entries(buffers).map(([name, b]) => [name, b?.byteLength ?? 0]);
  runtime.checkFits(Object.fromEntries(bytes));
}

/**
 * 1 when any of the `n` values at `v` (in WASM memory) is NaN or ±∞, else 0: a SIMD scan (the
 * scan in TypeScript took ~1.4% of an N = 512 call).
 */
function valuesNeedGuard(runtime: WasmRuntime, v: number, n: number): 0 | 1 {
  return runtime.call("diffusion_first_nonfinite_f32", v, n) < 0 ? 0 : 1;
}

/** Copies q, k and v into WASM memory. */
function putQueryKeyValue(s: Scope, args: { q: Float32Array; k: Float32Array; v: Float32Array }) {
  return { q: s.put(args.q), k: s.put(args.k), v: s.put(args.v) };
}

/** The q rows [r0, r0 + count) and the k and v rows [kv0, kv0 + kvCount) that a task reads. */
function queryKeyValueRegions(
  { q, k, v }: QueryKeyValue,
  { headDim, valueDim }: { headDim: number; valueDim: number },
  [r0, count]: [number, number],
  [kv0, kvCount]: [number, number],
): Region[] {
  return [
    rows(q, r0, count, headDim),
    rows(k, kv0, kvCount, headDim),
    rows(v, kv0, kvCount, valueDim),
  ];
}

/** Copies rows [r0, r1) of `width` floats from WASM memory at `offset` into `into`. */
function copyRowsOut(
  s: Scope,
  offset: number,
  into: Float32Array,
  [r0, r1]: [number, number],
  width: number,
): void {
  into.set(s.f32(offset + r0 * width * 4, (r1 - r0) * width), r0 * width);
}

/** Copies `data` in, or returns 0 for null (the kernels' "absent"). */
function putOptional(s: Scope, data: Float32Array | null): number {
  return data === null ? 0 : s.put(data);
}

/**
 * The attention kernels running on `runtime`; `shares` share out each kernel's faults of fresh
 * outputs (see runTasks), learnt afresh by default.
 */
export function wasmAttention(
  runtime: WasmRuntime,
  shares = { flash: faultShares(), linear: faultShares(), mixed: faultShares() },
): AttentionKernels {
  return attentionBackend("wasm", {
    flash: (args, first, end) => flashOn(runtime, args, [first, end], shares.flash),
    linear: (args, first, end) => linearOn(runtime, args, [first, end], shares.linear),
    mixedChunk: (args, first, end) => mixedOn(runtime, args, [first, end], shares.mixed),
  });
}

async function flashOn(
  runtime: WasmRuntime,
  args: FlashForwardArgs,
  items: [number, number],
  shares: FaultShares,
): Promise<Float32Array | void> {
  const { heads, kvHeads, queryLength, keyLength, headDim, valueDim, queryBlock } = args;
  const blocks = Math.ceil(queryLength / queryBlock);
  const flops = 2 * (items[1] - items[0]) * queryBlock * keyLength * (headDim + valueDim);
  const { q, k, v, mask, out: output, lse: logSumExp } = args;
  checkFits(runtime, { q, k, v, mask, output, logSumExp });
  return await runtime.scope(async (s) => {
    const qkv = putQueryKeyValue(s, args);
    const mask = putOptional(s, args.mask);
    const out = s.alloc(args.out.byteLength);
    const lse = args.lse === null ? 0 : s.alloc(args.lse.byteLength);
    const scratchBytes = runtime.call(
      "flash_forward_scratch_f32",
      headDim,
      valueDim,
      queryBlock,
      keyLength,
    );
    // Non-finite values take the kernel's guarded path, where zero weights contribute nothing.
    const guardValues = valuesNeedGuard(runtime, qkv.v, args.v.length);
    const outRows = flashRows(args, items[0], items[1]);
    // The output rows this call writes, faulted in while the workers compute.
    const into = args.out.subarray(outRows[0] * valueDim, outRows[1] * valueDim);
    const cost = { flops, scratchBytes, shares };
    const plan: TaskPlanner = (lo, hi, scratch) => {
      const [r0, r1] = flashRows(args, lo, hi);
      const kv = kvRows(Math.floor(lo / blocks), Math.floor((hi - 1) / blocks), args, keyLength);
      const outputs = [rows(out, r0, r1 - r0, valueDim)];
      if (lse !== 0) outputs.push(rows(lse, r0, r1 - r0, 1));
      // deno-fmt-ignore
      const kernelArgs = [
        out, lse, qkv.q, qkv.k, qkv.v, mask, scratch, heads, kvHeads, queryLength, keyLength,
        headDim, valueDim, args.maskBatchStride, args.maskHeadStride, args.maskRowStride,
        args.isCausal ? 1 : 0, queryBlock, lo, hi, args.scale, guardValues,
      ];
      return {
        args: kernelArgs,
        inputs: [
          ...queryKeyValueRegions(qkv, args, [r0, r1 - r0], kv),
          ...(mask === 0 ? [] : [rows(mask, 0, args.mask!.length, 1)]),
        ],
        outputs,
      };
    };
    const at = wholeFresh(args, into, out);
    const fresh = await runTasks(s, "flash_forward_f32", items, cost, plan, into, at);
    if (args.lse !== null) copyRowsOut(s, lse, args.lse, outRows, 1);
    if (fresh !== undefined) return fresh;
    copyRowsOut(s, out, args.out, outRows, valueDim);
  });
}

/**
 * The WASM address of `out`'s rows, where `into` (the rows a call writes) is the whole of a
 * fresh output (see runTasks' `outputAt`); else undefined.
 */
function wholeFresh(
  args: { out: Float32Array; freshOutput?: boolean },
  into: Float32Array,
  out: number,
): number | undefined {
  return args.freshOutput === true && into.length === args.out.length ? out : undefined;
}

async function linearOn(
  runtime: WasmRuntime,
  args: LinearForwardArgs,
  items: [number, number],
  shares: FaultShares,
): Promise<Float32Array | void> {
  const { heads, kvHeads, queryLength, keyLength, headDim, valueDim, isCausal } = args;
  const chunk = Math.max(1, args.chunkSize);
  const perItem = 2 * (queryLength + keyLength) * headDim * valueDim +
    (isCausal ? 2 * queryLength * chunk * (headDim + valueDim) : 0);
  const flops = perItem * (items[1] - items[0]);
  checkFits(runtime, { q: args.q, k: args.k, v: args.v, output: args.out });
  return await runtime.scope(async (s) => {
    const qkv = putQueryKeyValue(s, args);
    const out = s.alloc(args.out.byteLength);
    const scratchBytes = runtime.call("linear_forward_scratch_f32", headDim, valueDim, chunk);
    // Causal calls with non-finite values read only each row's visible keys (0 · ∞ is NaN).
    const guardValues = isCausal ? valuesNeedGuard(runtime, qkv.v, args.v.length) : 0;
    const outRows: [number, number] = [items[0] * queryLength, items[1] * queryLength];
    const into = args.out.subarray(outRows[0] * valueDim, outRows[1] * valueDim);
    const cost = { flops, scratchBytes, shares };
    const plan: TaskPlanner = (lo, hi, scratch) => {
      const queryRows: [number, number] = [lo * queryLength, (hi - lo) * queryLength];
      // deno-fmt-ignore
      const kernelArgs = [
        out, qkv.q, qkv.k, qkv.v, scratch, heads, kvHeads, queryLength, keyLength, headDim,
        valueDim, isCausal ? 1 : 0, args.featureMap, chunk, lo, hi, guardValues,
      ];
      return {
        args: kernelArgs,
        inputs: queryKeyValueRegions(qkv, args, queryRows, kvRows(lo, hi - 1, args, keyLength)),
        outputs: [rows(out, queryRows[0], queryRows[1], valueDim)],
      };
    };
    const at = wholeFresh(args, into, out);
    const fresh = await runTasks(s, "linear_forward_f32", items, cost, plan, into, at);
    if (fresh !== undefined) return fresh;
    copyRowsOut(s, out, args.out, outRows, valueDim);
  });
}

async function mixedOn(
  runtime: WasmRuntime,
  args: MixedChunkArgs,
  items: [number, number],
  shares: FaultShares,
): Promise<Float32Array | void> {
  const { heads, kvHeads, length, headDim, valueDim, linearDim, chunkSize } = args;
  const perItem = 2 * length *
    (Math.min(chunkSize, length) * (headDim + valueDim) + 2 * linearDim * valueDim);
  const flops = perItem * (items[1] - items[0]);
  const { q, k, v, linQ: linearQ, linK: linearK, bias, out: output } = args;
  checkFits(runtime, { q, k, v, linearQ, linearK, bias, output });
  return await runtime.scope(async (s) => {
    const qkv = putQueryKeyValue(s, args);
    const linQ = putOptional(s, args.linQ), linK = putOptional(s, args.linK);
    const bias = putOptional(s, args.bias);
    const out = s.alloc(args.out.byteLength);
    const scratchBytes = runtime.call(
      "mixed_chunk_forward_scratch_f32",
      headDim,
      valueDim,
      linearDim,
    );
    const guardValues = valuesNeedGuard(runtime, qkv.v, args.v.length);
    const plan: TaskPlanner = (lo, hi, scratch) => {
      const [kv0, kvCount] = kvRows(lo, hi - 1, args, length);
      const [r0, count] = [lo * length, (hi - lo) * length];
      // deno-fmt-ignore
      const kernelArgs = [
        out, qkv.q, qkv.k, qkv.v, linQ, linK, bias, scratch, heads, kvHeads, length, headDim,
        valueDim, linearDim, chunkSize, args.isCausal ? 1 : 0, args.biasBatchStride,
        args.biasHeadStride, args.biasRowStride, lo, hi, guardValues,
      ];
      return {
        args: kernelArgs,
        inputs: [
          ...queryKeyValueRegions(qkv, args, [r0, count], [kv0, kvCount]),
          ...(linQ === 0 ? [] : [rows(linQ, r0, count, linearDim)]),
          ...(linK === 0 ? [] : [rows(linK, kv0, kvCount, linearDim)]),
          ...(bias === 0 ? [] : [rows(bias, 0, args.bias!.length, 1)]),
        ],
        outputs: [rows(out, r0, count, valueDim)],
      };
    };
    const outRows: [number, number] = [items[0] * length, items[1] * length];
    const into = args.out.subarray(outRows[0] * valueDim, outRows[1] * valueDim);
    const cost = { flops, scratchBytes, shares };
    const at = wholeFresh(args, into, out);
    const fresh = await runTasks(s, "mixed_chunk_forward_f32", items, cost, plan, into, at);
    if (fresh !== undefined) return fresh;
    copyRowsOut(s, out, args.out, outRows, valueDim);
  });
}
