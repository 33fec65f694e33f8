import { adapt } from "./_adapter.ts";
import type { Denoiser, Network } from "./types.ts";

/**
 * Adapts a score model ∇ₓ log p(x; σ) in sigma space (NCSN / VE form) to a denoiser by
 * Tweedie's formula: `D = x + σ²·score`.
 *
 * @param model score(x, timestep, info), sync or async.
 * @param opts.timestep Maps σ to the model's noise input (default: σ itself).
 * @returns A denoiser, synchronous when the model is.
 * @throws {TypeError | RangeError} On a non-function model or an unknown option.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { denoiserFromScore } from "./mod.ts";
 * // The score of N(0, 1 + σ²) gives D = x/(1+σ²).
 * const denoise = denoiserFromScore((x, s) => x.map((v) => -v / (1 + s * s)));
 * const out = denoise(new Float32Array([4]), 1, { batch: 1, dim: 1 }) as Float32Array;
 * assert.equal(out[0], 2);
 * ```
 */
export function denoiserFromScore(
  model: Network,
  opts?: { timestep?: (sigma: number) => number },
): Denoiser {
  return adapt(model, opts, (sigma) => ({ scale: 1, time: sigma, p: 1, q: sigma * sigma }));
}
