import { checkLevels, checkScheduleOptions, checkSigmaRange, rampSchedule } from "./_schedule.ts";

/**
 * The VE schedule of EDM (Karras et al. 2022, Table 1): times
 * `t_i = σ_max² (σ_min²/σ_max²)^{i/(N−1)}` with σ(t) = √t, so the levels are geometric from
 * sigmaMax to sigmaMin (the SMLD / NCSN ladder), then a final zero.
 *
 * @param opts.steps Number of steps N (≥ 1).
 * @param opts.sigmaMin Lowest non-zero level (default 0.02).
 * @param opts.sigmaMax Highest level (default 100).
 * @returns N + 1 levels ending in 0.
 * @throws {TypeError | RangeError} On a non-integer `steps` or a bad range, or options
 *   whose levels would round to equal, infinite or NaN values.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { veSigmas } from "./mod.ts";
 * const sigmas = veSigmas({ steps: 3, sigmaMin: 0.01, sigmaMax: 1 });
 * assert.ok(Math.abs(sigmas[1] - 0.1) < 1e-12);
 * ```
 */
export function veSigmas(
  opts: { steps: number; sigmaMin?: number; sigmaMax?: number },
): Float64Array {
  checkScheduleOptions("opts", opts, ["steps", "sigmaMin", "sigmaMax"]);
  const { steps, sigmaMin = 0.02, sigmaMax = 100 } = opts;
  checkSigmaRange(sigmaMin, sigmaMax);
  const tMax = sigmaMax * sigmaMax, ratio = (sigmaMin * sigmaMin) / tMax;
  const levels = rampSchedule(steps, (r) => Math.sqrt(tMax * ratio ** r), {
    first: sigmaMax,
    last: sigmaMin,
  });
  return checkLevels(levels, ["steps", "sigmaMin", "sigmaMax"]);
}
