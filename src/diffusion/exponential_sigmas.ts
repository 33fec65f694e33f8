import { checkLevels, checkScheduleOptions, checkSigmaRange, rampSchedule } from "./_schedule.ts";

/**
 * Noise levels evenly spaced in log σ from sigmaMax to sigmaMin, then a final zero
 * (the "exponential" schedule of k-diffusion; the limit ρ → ∞ of {@link karrasSigmas}).
 *
 * @param opts.steps Number of steps N (≥ 1).
 * @param opts.sigmaMin Lowest non-zero level (default 0.002).
 * @param opts.sigmaMax Highest level (default 80).
 * @returns N + 1 levels ending in 0.
 * @throws {TypeError | RangeError} On a non-integer `steps` or a bad range, or options
 *   whose levels would round to equal, infinite or NaN values.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { exponentialSigmas } from "./mod.ts";
 * const sigmas = exponentialSigmas({ steps: 3, sigmaMin: 1, sigmaMax: 100 });
 * assert.ok(Math.abs(sigmas[1] - 10) < 1e-12);
 * ```
 */
export function exponentialSigmas(
  opts: { steps: number; sigmaMin?: number; sigmaMax?: number },
): Float64Array {
  checkScheduleOptions("opts", opts, ["steps", "sigmaMin", "sigmaMax"]);
  const { steps, sigmaMin = 0.002, sigmaMax = 80 } = opts;
  checkSigmaRange(sigmaMin, sigmaMax);
  const lo = Math.log(sigmaMin), hi = Math.log(sigmaMax);
  const levels = rampSchedule(steps, (r) => Math.exp(hi + r * (lo - hi)), {
    first: sigmaMax,
    last: sigmaMin,
  });
  return checkLevels(levels, ["steps", "sigmaMin", "sigmaMax"]);
}
