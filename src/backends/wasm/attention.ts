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
 * @module
 */
import {
  type AttentionKernels,
  type FlashForwardArgs,
  flashItemCount,
  headItemCount,
  itemRange,
  type LinearForwardArgs,
  type MixedChunkArgs,
} from "../attention.ts";
import type { Region, Scope, Task, WasmRuntime } from "../../runtime/_wasm.ts";

/** Below this many flops a call stays one task: a worker round trip costs ~60–80 µs. */
const MIN_PARALLEL_FLOPS = 1 << 22;
/** Tasks per thread: several, so that causal items of unequal cost even out round-robin. */
const TASKS_PER_THREAD = 4;

/** Cuts [first, end) into contiguous ranges, one per task. */
function splitItems(
  first: number,
  end: number,
  threads: number,
  flops: number,
): Array<[number, number]> {
  const count = end - first;
  const tasks = threads === 1 || flops < MIN_PARALLEL_FLOPS
    ? 1
    : Math.min(count, threads * TASKS_PER_THREAD);
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

/** Copies `data` in, or returns 0 for null (the kernels' "absent"). */
function putOptional(s: Scope, data: Float32Array | null): number {
  return data === null ? 0 : s.put(data);
}

/** The attention kernels running on `runtime`. */
export function wasmAttention(runtime: WasmRuntime): AttentionKernels {
  return {
    name: "wasm",
    flashForward: (args, firstItem, itemCount) => flashOn(runtime, args, firstItem, itemCount),
    linearForward: (args, firstItem, itemCount) => linearOn(runtime, args, firstItem, itemCount),
    mixedChunkForward: (args, firstItem, itemCount) => mixedOn(runtime, args, firstItem, itemCount),
  };
}

async function flashOn(
  runtime: WasmRuntime,
  args: FlashForwardArgs,
  firstItem?: number,
  itemCount?: number,
): Promise<void> {
  const [first, end] = itemRange(flashItemCount(args), firstItem, itemCount);
  if (first === end) return;
  const { heads, kvHeads, queryLength, keyLength, headDim, valueDim, queryBlock } = args;
  const blocks = Math.ceil(queryLength / queryBlock);
  // The first output row of an item (or, for the item past the last, the end of the rows).
  const rowOf = (item: number) =>
    Math.floor(item / blocks) * queryLength + (item % blocks) * queryBlock;
  const flops = 2 * (end - first) * queryBlock * keyLength * (headDim + valueDim);
  await runtime.scope(async (s) => {
    const q = s.put(args.q), k = s.put(args.k), v = s.put(args.v);
    const mask = putOptional(s, args.mask);
    const out = s.alloc(args.out.byteLength);
    const lse = args.lse === null ? 0 : s.alloc(args.lse.byteLength);
    const ranges = splitItems(first, end, runtime.threads, flops);
    const scratchBytes = runtime.call("flash_forward_scratch_f32", headDim, valueDim, queryBlock);
    const scratch = scratchFor(s, scratchBytes, ranges.length);
    const tasks: Task[] = ranges.map(([lo, hi], t) => {
      const [r0, r1] = [rowOf(lo), rowOf(hi)];
      const [kv0, kvCount] = kvRows(
        Math.floor(lo / blocks),
        Math.floor((hi - 1) / blocks),
        args,
        keyLength,
      );
      const outputs = [rows(out, r0, r1 - r0, valueDim)];
      if (lse !== 0) outputs.push(rows(lse, r0, r1 - r0, 1));
      // deno-fmt-ignore
      const kernelArgs = [
        out, lse, q, k, v, mask, scratch.offsets[t], heads, kvHeads, queryLength, keyLength,
        headDim, valueDim, args.maskBatchStride, args.maskHeadStride, args.maskRowStride,
        args.isCausal ? 1 : 0, queryBlock, lo, hi, args.scale,
      ];
      return {
        kernel: "flash_forward_f32",
        args: kernelArgs,
        inputs: [
          rows(q, r0, r1 - r0, headDim),
          rows(k, kv0, kvCount, headDim),
          rows(v, kv0, kvCount, valueDim),
          ...(mask === 0 ? [] : [rows(mask, 0, args.mask!.length, 1)]),
        ],
        outputs,
        scratch: [[scratch.offsets[t], scratch.bytes]],
      };
    });
    await s.run(tasks);
    const [r0, r1] = [rowOf(first), rowOf(end)];
    args.out.set(s.f32(out + r0 * valueDim * 4, (r1 - r0) * valueDim), r0 * valueDim);
    if (args.lse !== null) args.lse.set(s.f32(lse + r0 * 4, r1 - r0), r0);
  });
}

async function linearOn(
  runtime: WasmRuntime,
  args: LinearForwardArgs,
  firstItem?: number,
  itemCount?: number,
): Promise<void> {
  const [first, end] = itemRange(headItemCount(args), firstItem, itemCount);
  if (first === end) return;
  const { heads, kvHeads, queryLength, keyLength, headDim, valueDim, isCausal } = args;
  const chunk = Math.max(1, args.chunkSize);
  const perItem = 2 * (queryLength + keyLength) * headDim * valueDim +
    (isCausal ? 2 * queryLength * chunk * (headDim + valueDim) : 0);
  await runtime.scope(async (s) => {
    const q = s.put(args.q), k = s.put(args.k), v = s.put(args.v);
    const out = s.alloc(args.out.byteLength);
    const ranges = splitItems(first, end, runtime.threads, perItem * (end - first));
    const scratchBytes = runtime.call("linear_forward_scratch_f32", headDim, valueDim, chunk);
    const scratch = scratchFor(s, scratchBytes, ranges.length);
    const tasks: Task[] = ranges.map(([lo, hi], t) => {
      const [kv0, kvCount] = kvRows(lo, hi - 1, args, keyLength);
      // deno-fmt-ignore
      const kernelArgs = [
        out, q, k, v, scratch.offsets[t], heads, kvHeads, queryLength, keyLength, headDim,
        valueDim, isCausal ? 1 : 0, args.featureMap, chunk, lo, hi,
      ];
      return {
        kernel: "linear_forward_f32",
        args: kernelArgs,
        inputs: [
          rows(q, lo * queryLength, (hi - lo) * queryLength, headDim),
          rows(k, kv0, kvCount, headDim),
          rows(v, kv0, kvCount, valueDim),
        ],
        outputs: [rows(out, lo * queryLength, (hi - lo) * queryLength, valueDim)],
        scratch: [[scratch.offsets[t], scratch.bytes]],
      };
    });
    await s.run(tasks);
    const [r0, r1] = [first * queryLength, end * queryLength];
    args.out.set(s.f32(out + r0 * valueDim * 4, (r1 - r0) * valueDim), r0 * valueDim);
  });
}

async function mixedOn(
  runtime: WasmRuntime,
  args: MixedChunkArgs,
  firstItem?: number,
  itemCount?: number,
): Promise<void> {
  const [first, end] = itemRange(headItemCount(args), firstItem, itemCount);
  if (first === end) return;
  const { heads, kvHeads, length, headDim, valueDim, linearDim, chunkSize } = args;
  const perItem = 2 * length *
    (Math.min(chunkSize, length) * (headDim + valueDim) + 2 * linearDim * valueDim);
  await runtime.scope(async (s) => {
    const q = s.put(args.q), k = s.put(args.k), v = s.put(args.v);
    const linQ = putOptional(s, args.linQ), linK = putOptional(s, args.linK);
    const bias = putOptional(s, args.bias);
    const out = s.alloc(args.out.byteLength);
    const ranges = splitItems(first, end, runtime.threads, perItem * (end - first));
    const scratchBytes = runtime.call(
      "mixed_chunk_forward_scratch_f32",
      headDim,
      valueDim,
      linearDim,
    );
    const scratch = scratchFor(s, scratchBytes, ranges.length);
    const tasks: Task[] = ranges.map(([lo, hi], t) => {
      const [kv0, kvCount] = kvRows(lo, hi - 1, args, length);
      const [r0, count] = [lo * length, (hi - lo) * length];
      // deno-fmt-ignore
      const kernelArgs = [
        out, q, k, v, linQ, linK, bias, scratch.offsets[t], heads, kvHeads, length, headDim,
        valueDim, linearDim, chunkSize, args.isCausal ? 1 : 0, args.biasBatchStride,
        args.biasHeadStride, args.biasRowStride, lo, hi,
      ];
      return {
        kernel: "mixed_chunk_forward_f32",
        args: kernelArgs,
        inputs: [
          rows(q, r0, count, headDim),
          rows(k, kv0, kvCount, headDim),
          rows(v, kv0, kvCount, valueDim),
          ...(linQ === 0 ? [] : [rows(linQ, r0, count, linearDim)]),
          ...(linK === 0 ? [] : [rows(linK, kv0, kvCount, linearDim)]),
          ...(bias === 0 ? [] : [rows(bias, 0, args.bias!.length, 1)]),
        ],
        outputs: [rows(out, r0, count, valueDim)],
        scratch: [[scratch.offsets[t], scratch.bytes]],
      };
    });
    await s.run(tasks);
    const [r0, r1] = [first * length, end * length];
    args.out.set(s.f32(out + r0 * valueDim * 4, (r1 - r0) * valueDim), r0 * valueDim);
  });
}
