/**
 * The gated attention unit (GAU) layer of FLASH.
 *
 * @module
 */
import {
  checkBackend,
  checkBoolean,
  checkChoice,
  checkNumber,
  checkOptions,
  checkTensor,
  outputTensor,
  show,
} from "../_validate.ts";
import type { MixedChunkArgs } from "../backends/attention.ts";
import type { Backend, Tensor } from "../tensor.ts";
import { matmul } from "../linalg/matmul.ts";
import { attentionKernels } from "./_kernels.ts";
import { additiveStrides } from "./_shapes.ts";

/**
 * Weights of one gated attention unit, for model width d, expanded width e (FLASH uses 2d) and
 * shared query/key width s (FLASH uses 128). Biases and norm parameters are optional.
 */
export interface GAUParams {
  /** U = SiLU(X̂ uWeight + uBias), [d, e]. */
  uWeight: Tensor;
  /** [e]. */
  uBias?: Tensor;
  /** V = SiLU(X̂ vWeight + vBias), [d, e]. */
  vWeight: Tensor;
  /** [e]. */
  vBias?: Tensor;
  /** The shared base Z = SiLU(X̂ zWeight + zBias), [d, s]. */
  zWeight: Tensor;
  /** [s]. */
  zBias?: Tensor;
  /**
   * Per-dimension offset-scales from Z, one row per derived tensor: row r is
   * Z ⊙ qkScale[r] + qkOffset[r]. Rows are (Q, K) for quadratic attention, shape [2, s], or
   * (quadQ, quadK, linQ, linK) for mixed-chunk attention, shape [4, s]. With `chunkSize` and
   * only two rows, the linear part reuses Q and K.
   */
  qkScale: Tensor;
  /** Same shape as qkScale. */
  qkOffset: Tensor;
  /** Output projection, [e, d]. */
  outWeight: Tensor;
  /** [d]. */
  outBias?: Tensor;
  /** Gain after normalisation, [d]. Default ones. */
  normScale?: Tensor;
  /** Shift after normalisation, [d]. Default zeros. */
  normOffset?: Tensor;
  /**
   * Additive bias inside relu², e.g. a relative-position bias, broadcast right-aligned to
   * [B|1, L, L] with L = N, or L = chunkSize with mixed-chunk attention.
   */
  attentionBias?: Tensor;
}

/** Options of {@linkcode gatedAttentionUnit}. */
export interface GatedAttentionUnitOptions {
  /** Use mixed-chunk attention with this chunk length instead of full quadratic attention. */
  chunkSize?: number;
  /** Autoregressive: position i attends to positions j <= i only. Default false. */
  causal?: boolean;
  /** Normalisation before the projections: "layer" (default), "rms" or "none". */
  norm?: "layer" | "rms" | "none";
  /** Added to the variance (or mean square) of the normalisation. Default 1e-5. */
  epsilon?: number;
  /**
   * B·N·d values to write the output into, which the returned tensor then holds (see
   * ScaledDotProductAttentionOptions.out); it must not share memory with `x` or a weight.
   */
  out?: Float32Array;
  /** Where to run the projections and attention kernels. Default "auto". */
  backend?: Backend;
}

const OPTIONS = ["chunkSize", "causal", "norm", "epsilon", "out", "backend"] as const;
const NORMS = ["layer", "rms", "none"] as const;
const PARAMS = [
  "uWeight",
  "uBias",
  "vWeight",
  "vBias",
  "zWeight",
  "zBias",
  "qkScale",
  "qkOffset",
  "outWeight",
  "outBias",
  "normScale",
  "normOffset",
  "attentionBias",
] as const;

/**
 * A gated attention unit (Hua et al. 2022, "Transformer Quality in Linear Time", the GAU
 * pseudo-code), applied to x [B, N, d]:
 *
 * ```
 *  X̂      = norm(x) ⊙ normScale + normOffset
 *  U, V   = SiLU(X̂ uWeight + uBias), SiLU(X̂ vWeight + vBias)          [B, N, e]
 *  Z      = SiLU(X̂ zWeight + zBias)                                   [B, N, s]
 *  Q, K   = Z ⊙ qkScale[0] + qkOffset[0],  Z ⊙ qkScale[1] + qkOffset[1]
 *  A      = relu(Q Kᵀ / N + attentionBias)²   (j <= i only when causal)
 *  out    = (U ⊙ A V) outWeight + outBias + x
 * ```
 *
 * With `chunkSize`, A V is replaced by {@linkcode mixedChunkAttention}(Q, K, V) with linQ and
 * linK from rows 2 and 3 of the offset-scales. The unit has a single head; batches are
 * independent.
 *
 * @param x Input, [B, N, d].
 * @param params The weights, see {@linkcode GAUParams}.
 * @param opts `chunkSize`, `causal`, `norm`, `epsilon`, `out` (B·N·d values to write into),
 *   `backend`.
 * @returns The output, [B, N, d] (the residual is included): over `opts.out` when given.
 * @throws {TypeError} If an argument has the wrong type (the message names it).
 * @throws {RangeError} If a weight's shape disagrees with x or the others, an option or
 *   parameter name is unknown, or the backend is not available.
 *
 * @example Zero output projection leaves the residual
 * ```ts
 * import assert from "node:assert/strict";
 * import { gatedAttentionUnit } from "./gated_attention_unit.ts";
 *
 * const t = (data: number[], shape: number[]) => ({ data: new Float32Array(data), shape });
 * const x = t([1, 2, 3, 4], [1, 2, 2]);
 * const params = {
 *   uWeight: t([1, 0, 0, 1], [2, 2]), vWeight: t([1, 0, 0, 1], [2, 2]),
 *   zWeight: t([1, 1], [2, 1]), qkScale: t([1, 1], [2, 1]), qkOffset: t([0, 0], [2, 1]),
 *   outWeight: t([0, 0, 0, 0], [2, 2]),
 * };
 * const y = await gatedAttentionUnit(x, params, { causal: true });
 * assert.deepEqual([...y.data], [1, 2, 3, 4]);
 * ```
 */
export async function gatedAttentionUnit(
  x: Tensor,
  params: GAUParams,
  opts?: GatedAttentionUnitOptions,
): Promise<Tensor> {
  checkTensor("x", x, 3);
  checkOptions("opts", opts, OPTIONS);
  checkOptions("params", params, PARAMS);
  const { chunkSize, causal = false, norm = "layer", epsilon = 1e-5, backend } = opts ?? {};
  if (chunkSize !== undefined) checkNumber("opts.chunkSize", chunkSize, { min: 1, integer: true });
  checkBoolean("opts.causal", causal);
  checkChoice("opts.norm", norm, NORMS);
  checkNumber("opts.epsilon", epsilon, { min: 0 });
  checkBackend("opts.backend", backend);
  const [batch, length, modelDim] = x.shape;
  const dims = checkParams(params, modelDim, chunkSize !== undefined, norm);
  const rows = batch * length, { expandedDim, sharedDim } = dims;
  const weights = Object.entries(params).map(([name, t]) => [`params.${name}`, t?.data]);
  const output = outputTensor("opts.out", opts?.out, [batch, length, modelDim], {
    x: x.data,
    ...Object.fromEntries(weights),
  });
  const mixed = chunkSize !== undefined;
  const span = mixed ? chunkSize : Math.max(1, length);
  const flops = 2 * rows * Math.min(span, length) * (sharedDim + expandedDim);
  // Every buffer the kernels hold (q, k, v, the linear part's, the output) derives from x: a
  // call too big for WASM memory is refused, naming x, before the projections run.
  const derivedBytes = 4 * rows * (2 * expandedDim + (mixed ? 4 : 2) * sharedDim);
  const bytes = { x: derivedBytes + (params.attentionBias?.data.byteLength ?? 0) };
  await attentionKernels(backend, flops, [x.data], bytes);
  const normed = normalise(x.data, rows, modelDim, norm, epsilon, params);
  const project = (weight: Tensor, bias: Tensor | undefined) =>
    siluProjection({ data: normed, shape: [rows, modelDim] }, weight, bias, backend);
  const u = await project(params.uWeight, params.uBias);
  const v = await project(params.vWeight, params.vBias);
  const z = await project(params.zWeight, params.zBias);
  const derived = offsetScales(
    z,
    params.qkScale.data,
    params.qkOffset.data,
    dims.rowsOfScales,
    sharedDim,
  );
  const biasStrides = additiveStrides(
    "params.attentionBias",
    params.attentionBias,
    [batch, span, span],
    "[B, L, L]",
  );
  const gated = new Float32Array(rows * expandedDim);
  const args: MixedChunkArgs = {
    q: derived[0],
    k: derived[1],
    v,
    linQ: mixed ? derived[derived.length === 4 ? 2 : 0] : null,
    linK: mixed ? derived[derived.length === 4 ? 3 : 1] : null,
    bias: params.attentionBias?.data ?? null,
    out: gated,
    batch,
    heads: 1,
    kvHeads: 1,
    length,
    headDim: sharedDim,
    valueDim: expandedDim,
    linearDim: sharedDim,
    chunkSize: span,
    isCausal: causal,
    biasBatchStride: biasStrides[0],
    biasHeadStride: 0,
    biasRowStride: biasStrides[1],
  };
  const inputs = [args.q, args.k, args.v, args.linQ, args.linK];
  await (await attentionKernels(backend, flops, inputs, bytes)).mixedChunkForward(args);
  for (let i = 0; i < gated.length; i++) gated[i] *= u[i];
  const out = output.data;
  await matmul({ data: gated, shape: [rows, expandedDim] }, params.outWeight, { backend, out });
  addRowBias(out, params.outBias, modelDim);
  for (let i = 0; i < out.length; i++) out[i] += x.data[i];
  return output;
}

/** Checks every weight's shape against d and each other; returns e, s and the offset-scale rows. */
function checkParams(params: GAUParams, modelDim: number, mixed: boolean, norm: string) {
  if (params === null || typeof params !== "object") {
    throw new TypeError(`Expected "params" to be a GAUParams object but found ${show(params)}`);
  }
  const matrix = (name: keyof GAUParams, rows: number | null, cols: number | null): number[] => {
    const t = params[name];
    checkTensor(`params.${name}`, t, 2);
    if ((rows !== null && t.shape[0] !== rows) || (cols !== null && t.shape[1] !== cols)) {
      throw new RangeError(
        `Expected "params.${name}" to have shape [${rows ?? "*"}, ${cols ?? "*"}] but found [${
          t.shape.join(", ")
        }]`,
      );
    }
    return t.shape;
  };
  const vector = (name: keyof GAUParams, size: number) => {
    const t = params[name];
    if (t === undefined) return;
    checkTensor(`params.${name}`, t, 1);
    if (t.shape[0] !== size) {
      throw new RangeError(
        `Expected "params.${name}" to have shape [${size}] but found [${t.shape.join(", ")}]`,
      );
    }
  };
  const expandedDim = matrix("uWeight", modelDim, null)[1];
  matrix("vWeight", modelDim, expandedDim);
  const sharedDim = matrix("zWeight", modelDim, null)[1];
  const rowsOfScales = matrix("qkScale", null, sharedDim)[0];
  if (rowsOfScales !== 2 && !(mixed && rowsOfScales === 4)) {
    throw new RangeError(
      `Expected "params.qkScale" to have ${mixed ? "2 or 4" : "2"} rows${
        mixed ? "" : " without opts.chunkSize"
      } but found ${rowsOfScales}`,
    );
  }
  matrix("qkOffset", rowsOfScales, sharedDim);
  matrix("outWeight", expandedDim, modelDim);
  vector("uBias", expandedDim);
  vector("vBias", expandedDim);
  vector("zBias", sharedDim);
  vector("outBias", modelDim);
  vector("normScale", modelDim);
  vector("normOffset", modelDim);
  if (norm === "none" && (params.normScale !== undefined || params.normOffset !== undefined)) {
    throw new RangeError(
      `Expected no "params.normScale" or "params.normOffset" with opts.norm "none"`,
    );
  }
  return { expandedDim, sharedDim, rowsOfScales };
}

/** Layer or RMS normalisation of each row, then the optional gain and shift. */
function normalise(
  x: Float32Array,
  rows: number,
  width: number,
  norm: string,
  epsilon: number,
  params: GAUParams,
): Float32Array {
  if (norm === "none") return x;
  const out = new Float32Array(rows * width);
  const gain = params.normScale?.data, shift = params.normOffset?.data;
  for (let r = 0; r < rows; r++) {
    const o = r * width;
    let mean = 0;
    if (norm === "layer") {
      for (let c = 0; c < width; c++) mean += x[o + c];
      mean /= width;
    }
    let square = 0;
    for (let c = 0; c < width; c++) square += (x[o + c] - mean) ** 2;
    const inverse = 1 / Math.sqrt(square / width + epsilon);
    for (let c = 0; c < width; c++) {
      out[o + c] = (x[o + c] - mean) * inverse * (gain?.[c] ?? 1) + (shift?.[c] ?? 0);
    }
  }
  return out;
}

/** Adds bias [cols] to every row of a row-major matrix in place. */
function addRowBias(data: Float32Array, bias: Tensor | undefined, cols: number): void {
  if (bias === undefined) return;
  for (let i = 0; i < data.length; i++) data[i] += bias.data[i % cols];
}

/** SiLU(a · weight + bias), with SiLU(t) = t / (1 + e^-t). */
async function siluProjection(
  a: Tensor,
  weight: Tensor,
  bias: Tensor | undefined,
  backend: Backend | undefined,
): Promise<Float32Array> {
  const out = (await matmul(a, weight, { backend })).data;
  addRowBias(out, bias, weight.shape[1]);
  for (let i = 0; i < out.length; i++) out[i] = out[i] / (1 + Math.exp(-out[i]));
  return out;
}

/** Row r of the result is z ⊙ scale[r] + offset[r], for each of the `count` rows. */
function offsetScales(
  z: Float32Array,
  scale: Float32Array,
  offset: Float32Array,
  count: number,
  width: number,
): Float32Array[] {
  return Array.from({ length: count }, (_, r) => {
    const out = new Float32Array(z.length);
    for (let i = 0; i < z.length; i++) {
      const c = i % width;
      out[i] = z[i] * scale[r * width + c] + offset[r * width + c];
    }
    return out;
  });
}
