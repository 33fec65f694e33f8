import { adapt } from "./_adapter.ts";
import type { Denoiser, Network } from "./types.ts";

/**
 * Adapts an ε-prediction model (Ho et al. 2020) to a denoiser. The model sees the
 * variance-preserving state `x_t = x/√(1+σ²)` and `timestep(σ)`; then `D = x − σ·ε̂`
 * (EDM's VP/iDDPM preconditioning with F = ε̂).
 *
 * @param model ε̂(x_t, timestep, info), sync or async.
 * @param opts.timestep Maps σ to the model's time input (default: σ itself); for a
 *   discrete-time model, the index of the nearest trained σ.
 * @returns A denoiser, synchronous when the model is.
 * @throws {TypeError | RangeError} On a non-function model or an unknown option.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { denoiserFromEpsilon } from "./mod.ts";
 * const denoise = denoiserFromEpsilon((xt) => xt.map(() => 1));
 * const out = denoise(new Float32Array([3]), 2, { batch: 1, dim: 1 }) as Float32Array;
 * assert.equal(out[0], 1); // 3 − 2·1
 * ```
 */
export function denoiserFromEpsilon(
  model: Network,
  opts?: { timestep?: (sigma: number) => number },
): Denoiser {
  return adapt(model, opts, (sigma) => ({
    scale: 1 / Math.sqrt(1 + sigma * sigma),
    time: sigma,
    p: 1,
    q: -sigma,
  }));
}
