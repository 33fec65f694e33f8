/**
 * The `attention` kernel family: the narrow interface that the attention API calls and that
 * every backend (js reference, wasm, webgpu) implements. Arguments are flat Float32Array
 * buffers plus plain numbers and flags, so the same record can be copied into WASM memory or
 * posted to a worker unchanged.
 *
 * Layouts (row-major, innermost last):
 *
 * ```
 *  q    [batch, heads,   queryLength, headDim]
 *  k    [batch, kvHeads, keyLength,   headDim]
 *  v    [batch, kvHeads, keyLength,   valueDim]
 *  out  [batch, heads,   queryLength, valueDim]
 *  lse  [batch, heads,   queryLength]
 *  mask element (b, h, i, j) at b·maskBatchStride + h·maskHeadStride + i·maskRowStride + j
 * ```
 *
 * Query head `h` reads key/value head `floor(h / (heads / kvHeads))` (grouped-query attention:
 * consecutive query heads share one key/value head).
 *
 * Work items let a backend split one call across threads with results that do not depend on
 * the split. Flash items run over (batch, head, query block), the others over (batch, head):
 *
 * ```
 *  item = (b · heads + h) · queryBlocks + block      queryBlocks = ceil(queryLength / queryBlock)
 *  item = b · heads + h                              (linear, mixed chunk)
 * ```
 *
 * @module
 */

/** The dimensions of a q/k/v triple (layouts above). */
export interface AttentionDims {
  batch: number;
  heads: number;
  kvHeads: number;
  queryLength: number;
  keyLength: number;
  headDim: number;
  valueDim: number;
}

/** The input buffers of every call and its output. */
export interface QueryKeyValueBuffers {
  q: Float32Array;
  k: Float32Array;
  v: Float32Array;
  /** Written: [batch, heads, queryLength, valueDim]. */
  out: Float32Array;
  /**
   * `out` is a fresh array nothing has written yet (no `out` was lent). A backend that computes
   * every item of the call may then resolve to another fresh array holding the output instead
   * of writing `out` (see AttentionKernels).
   */
  freshOutput?: boolean;
}

/** Buffers and dimensions of one softmax-attention forward call. */
export interface FlashForwardArgs extends QueryKeyValueBuffers, AttentionDims {
  /** Written when given: the natural log of each row's softmax denominator, [batch, heads, queryLength]. */
  lse: Float32Array | null;
  /** Additive mask, read through the three strides below (the key stride is 1). */
  mask: Float32Array | null;
  /** Multiplies q·k before the mask is added. */
  scale: number;
  /** Query i sees key j only when j <= i + keyLength - queryLength (bottom-right alignment). */
  isCausal: boolean;
  maskBatchStride: number;
  maskHeadStride: number;
  maskRowStride: number;
  /** Query rows per work item. */
  queryBlock: number;
}

/** Buffers and dimensions of one linear-attention forward call (Katharopoulos et al. 2020). */
export interface LinearForwardArgs extends QueryKeyValueBuffers, AttentionDims {
  /** Query i sees keys j <= i; needs queryLength == keyLength. */
  isCausal: boolean;
  /** Feature map φ applied to q and k. */
  featureMap: FeatureMapCode;
  /** Rows per chunk of the causal prefix-sum form; does not change the result beyond rounding. */
  chunkSize: number;
}

/** Feature maps by number, so the choice crosses into WASM as an integer. */
export const FEATURE_MAP_CODES = { "elu+1": 0, "relu": 1 } as const;

/** The integer code of a feature map. */
export type FeatureMapCode = (typeof FEATURE_MAP_CODES)[keyof typeof FEATURE_MAP_CODES];

/**
 * Buffers and dimensions of one mixed-chunk attention call (FLASH, Hua et al. 2022). With
 * `linQ` null only the quadratic in-chunk part runs, which with `chunkSize = length` is the
 * GAU's relu²(QKᵀ/N + bias) attention.
 */
export interface MixedChunkArgs
  extends QueryKeyValueBuffers, Omit<AttentionDims, "queryLength" | "keyLength"> {
  /** [batch, heads, length, linearDim], or null for no global part. */
  linQ: Float32Array | null;
  /** [batch, kvHeads, length, linearDim], null exactly when linQ is. */
  linK: Float32Array | null;
  /** Additive bias inside relu² for in-chunk position pairs (r, c), read through the strides below. */
  bias: Float32Array | null;
  /** Query and key length; `out` is [batch, heads, length, valueDim]. */
  length: number;
  linearDim: number;
  chunkSize: number;
  isCausal: boolean;
  biasBatchStride: number;
  biasHeadStride: number;
  /** Stride between bias rows (in-chunk query positions); the column stride is 1. */
  biasRowStride: number;
}

/**
 * One backend's implementation of the attention family. Each method computes the work items
 * `[firstItem, firstItem + itemCount)` (all of them when omitted) and writes only their rows
 * of `out` (and `lse`); or, for a call of every item with `freshOutput`, may resolve to a
 * fresh array holding the whole output instead of writing `out` (`lse` is written all the same).
 */
export interface AttentionKernels {
  /** The backend's name, for messages and runtime info. */
  readonly name: string;
  /** Exact softmax attention. */
  flashForward(args: FlashForwardArgs, firstItem?: number, itemCount?: number): Promise<Fresh>;
  /** Linear attention with a positive feature map. */
  linearForward(args: LinearForwardArgs, firstItem?: number, itemCount?: number): Promise<Fresh>;
  /** Quadratic relu² attention within chunks plus linear attention across chunks. */
  mixedChunkForward(args: MixedChunkArgs, firstItem?: number, itemCount?: number): Promise<Fresh>;
}

/**
 * What a call resolves to: nothing (the output is in `out`), or, for a call with `freshOutput`,
 * the fresh array that holds the output instead.
 */
export type Fresh = Float32Array | void;

/** The number of flash work items of a call: (batch, head, query block) triples. */
export function flashItemCount(args: FlashForwardArgs): number {
  return args.batch * args.heads * Math.ceil(args.queryLength / args.queryBlock);
}

/** The number of (batch, head) work items of a linear or mixed-chunk call. */
export function headItemCount(args: { batch: number; heads: number }): number {
  return args.batch * args.heads;
}

/**
 * Resolves an optional item range against the total and returns [first, end); throws a
 * RangeError for a range outside [0, total).
 */
export function itemRange(
  total: number,
  firstItem = 0,
  itemCount = total - firstItem,
): [number, number] {
  if (
    !Number.isInteger(firstItem) || !Number.isInteger(itemCount) || firstItem < 0 ||
    itemCount < 0 || firstItem + itemCount > total
  ) {
    throw new RangeError(
      `Expected a work item range within [0, ${total}) but found first ${firstItem}, count ${itemCount}`,
    );
  }
  return [firstItem, firstItem + itemCount];
}

/**
 * The output rows [r0, r1) of the flash items [first, end) (not empty): the items of one
 * (batch, head) cover its query rows in order, so a run of items owns a run of rows.
 */
export function flashRows(args: FlashForwardArgs, first: number, end: number): [number, number] {
  const blocks = Math.ceil(args.queryLength / args.queryBlock);
  const rowOf = (item: number) =>
    Math.floor(item / blocks) * args.queryLength + (item % blocks) * args.queryBlock;
  return [rowOf(first), rowOf(end)];
}

/** How one backend computes the work items [first, end) of a call; never asked for none. */
export interface AttentionRunners {
  flash(args: FlashForwardArgs, first: number, end: number): Promise<Fresh> | Fresh;
  linear(args: LinearForwardArgs, first: number, end: number): Promise<Fresh> | Fresh;
  mixedChunk(args: MixedChunkArgs, first: number, end: number): Promise<Fresh> | Fresh;
}

/**
 * A backend of the family from its runners: each method resolves its optional item range with
 * {@linkcode itemRange} (a range outside the call rejects with its RangeError) and skips an
 * empty one, so the runners see only checked, non-empty ranges.
 */
export function attentionBackend(name: string, runners: AttentionRunners): AttentionKernels {
  return {
    name,
    async flashForward(args, firstItem, itemCount) {
      const [first, end] = itemRange(flashItemCount(args), firstItem, itemCount);
      if (first < end) return await runners.flash(args, first, end);
    },
    async linearForward(args, firstItem, itemCount) {
      const [first, end] = itemRange(headItemCount(args), firstItem, itemCount);
      if (first < end) return await runners.linear(args, first, end);
    },
    async mixedChunkForward(args, firstItem, itemCount) {
      const [first, end] = itemRange(headItemCount(args), firstItem, itemCount);
      if (first < end) return await runners.mixedChunk(args, first, end);
    },
  };
}
