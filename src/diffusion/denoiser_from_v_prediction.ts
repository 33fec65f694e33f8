import { adapt } from "./_adapter.ts";
import type { Denoiser, Network } from "./types.ts";

/**
 * Adapts a v-prediction model (Salimans & Ho 2022, v = α·ε − σ_t·x₀ on the VP state
 * x_t = α·x₀ + σ_t·ε) to a denoiser. With α = 1/√(1+σ²) and σ_t = σ·α:
 * `D = α·x_t − σ_t·v̂ = x/(1+σ²) − σ/√(1+σ²)·v̂`.
 *
 * @param model v̂(x_t, timestep, info), sync or async.
 * @param opts.timestep Maps σ to the model's time input (default: σ itself).
 * @returns A denoiser, synchronous when the model is.
 * @throws {TypeError | RangeError} On a non-function model or an unknown option.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { denoiserFromVPrediction } from "./mod.ts";
 * const denoise = denoiserFromVPrediction((xt) => new Float32Array(xt.length));
 * const out = denoise(new Float32Array([2]), 1, { batch: 1, dim: 1 }) as Float32Array;
 * assert.equal(out[0], 1); // 2/(1+1)
 * ```
 */
export function denoiserFromVPrediction(
  model: Network,
  opts?: { timestep?: (sigma: number) => number },
): Denoiser {
  return adapt(model, opts, (sigma) => {
    const alpha = 1 / Math.sqrt(1 + sigma * sigma);
    return { scale: alpha, time: sigma, p: alpha * alpha, q: -sigma * alpha };
  });
}
