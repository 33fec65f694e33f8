import { adapt } from "./_adapter.ts";
import type { Denoiser, Network } from "./types.ts";

/**
 * Adapts a flow-matching / rectified-flow velocity model (Lipman et al. 2023; Liu et al. 2023)
 * to a denoiser. With x_t = (1 − t)·x₀ + t·ε the model predicts v = ε − x₀; in sigma space
 * σ = t/(1 − t) and s = 1 − t, so the model sees `x_t = x/(1+σ)` at `t = σ/(1+σ)` and
 * `D = x_t − t·v̂`.
 *
 * @param model v̂(x_t, timestep, info), sync or async.
 * @param opts.timestep Maps the flow time t ∈ [0, 1) to the model's input (default: t itself;
 *   `(t) => 1000 * t` for models trained on [0, 1000]).
 * @returns A denoiser, synchronous when the model is.
 * @throws {TypeError | RangeError} On a non-function model or an unknown option.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { denoiserFromVelocity } from "./mod.ts";
 * // Data x₀ ≡ 0: the exact velocity is x_t / t.
 * const denoise = denoiserFromVelocity((xt, t) => xt.map((v) => v / t));
 * const out = denoise(new Float32Array([3]), 1, { batch: 1, dim: 1 }) as Float32Array;
 * assert.equal(out[0], 0);
 * ```
 */
export function denoiserFromVelocity(
  model: Network,
  opts?: { timestep?: (t: number) => number },
): Denoiser {
  return adapt(model, opts, (sigma) => {
    const s = 1 / (1 + sigma), t = sigma / (1 + sigma);
    return { scale: s, time: t, p: s, q: -t };
  });
}
