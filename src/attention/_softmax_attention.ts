/**
 * The shared body of the softmax attention functions: validation, planning and the kernel
 * call, with or without the log-sum-exp output.
 *
 * @module
 */
import {
  checkBackend,
  checkBoolean,
  checkNumber,
  checkOptions,
  outputTensor,
} from "../_validate.ts";
import type { FlashForwardArgs } from "../backends/attention.ts";
import type { Backend, Tensor } from "../tensor.ts";
import { attentionKernels } from "./_kernels.ts";
import { additiveStrides, checkQueryKeyValue } from "./_shapes.ts";

/** Options of {@linkcode scaledDotProductAttention}. */
export interface ScaledDotProductAttentionOptions {
  /** Hide keys after each query, aligned bottom-right when the lengths differ. Default false. */
  causal?: boolean;
  /** Multiplies q·k. Default 1/√headDim. */
  scale?: number;
  /**
   * Additive mask, broadcast right-aligned to [B|1, H|1, Nq|1, Nk]; -Infinity hides a key. The
   * webgpu backend (whose shaders may not compute with infinities) treats entries below -1e30
   * as -Infinity too.
   */
  mask?: Tensor;
  /**
   * B·H·Nq·Dv values to write the output into, which the returned tensor then holds (as
   * PyTorch's `out=`): repeated calls reuse one array instead of a fresh one a call, whose pages
   * the host must fault in. It must not share memory with `q`, `k`, `v` or the mask. Where a
   * call fails after its checks (WASM memory that cannot grow), `out` may have been written.
   */
  out?: Float32Array;
  /** Where to run. Default "auto". */
  backend?: Backend;
}

const OPTIONS = ["causal", "scale", "mask", "out", "backend"] as const;

/** Rows of queries per work item: small enough to spread short sequences over threads. */
export const FLASH_QUERY_BLOCK = 64;

/** Validates, plans and runs softmax attention; returns the output and, when asked, the LSE. */
export async function runSoftmaxAttention(
  q: Tensor,
  k: Tensor,
  v: Tensor,
  opts: ScaledDotProductAttentionOptions | undefined,
  withLse: boolean,
): Promise<{ output: Tensor; logSumExp: Tensor | null }> {
  const shape = checkQueryKeyValue(q, k, v);
  checkOptions("opts", opts, OPTIONS);
  const { causal = false, scale = 1 / Math.sqrt(shape.headDim), mask, backend } = opts ?? {};
  checkBoolean("opts.causal", causal);
  checkNumber("opts.scale", scale);
  checkBackend("opts.backend", backend);
  const { batch, heads, queryLength, keyLength, valueDim } = shape;
  const maskStrides = additiveStrides(
    "opts.mask",
    mask,
    [batch, heads, queryLength, keyLength],
    "[B, H, Nq, Nk]",
  );
  const output = outputTensor("opts.out", opts?.out, [batch, heads, queryLength, valueDim], {
    q: q.data,
    k: k.data,
    v: v.data,
    "opts.mask": mask?.data,
  });
  const logSumExp: Tensor | null = withLse
    ? { data: new Float32Array(batch * heads * queryLength), shape: [batch, heads, queryLength] }
    : null;
  const args: FlashForwardArgs = {
    ...shape,
    q: q.data,
    k: k.data,
    v: v.data,
    out: output.data,
    freshOutput: opts?.out === undefined,
    lse: logSumExp?.data ?? null,
    mask: mask?.data ?? null,
    scale,
    isCausal: causal,
    maskBatchStride: maskStrides[0],
    maskHeadStride: maskStrides[1],
    maskRowStride: maskStrides[2],
    queryBlock: FLASH_QUERY_BLOCK,
  };
  const flops = 2 * batch * heads * queryLength * keyLength * (shape.headDim + valueDim);
  const kernels = await attentionKernels(backend, flops, [args.q, args.k, args.v]);
  // A worker on copied memory may hand back the fresh array it wrote the output into.
  const fresh = await kernels.flashForward(args);
  if (fresh instanceof Float32Array) output.data = fresh;
  return { output, logSumExp };
}
