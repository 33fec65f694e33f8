import { checkNumber } from "../_validate.ts";
import { checkLevels, checkScheduleOptions, checkSigmaRange, rampSchedule } from "./_schedule.ts";

/**
 * The noise levels of Karras et al. (2022, eq. 5): evenly spaced in σ^(1/ρ) from sigmaMax down
 * to sigmaMin, then a final zero. Large ρ concentrates steps at low noise.
 *
 * @param opts.steps Number of sampling steps N (≥ 1).
 * @param opts.sigmaMin Lowest non-zero level (default 0.002).
 * @param opts.sigmaMax Highest level (default 80).
 * @param opts.rho Warping exponent ρ (default 7).
 * @returns N + 1 levels, strictly decreasing, ending in 0.
 * @throws {TypeError | RangeError} On a non-integer `steps` or a bad range, or options
 *   whose levels would round to equal, infinite or NaN values.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { karrasSigmas } from "./mod.ts";
 * const sigmas = karrasSigmas({ steps: 3, sigmaMin: 1, sigmaMax: 81, rho: 2 });
 * assert.deepEqual([...sigmas], [81, 25, 1, 0]);
 * ```
 */
export function karrasSigmas(
  opts: { steps: number; sigmaMin?: number; sigmaMax?: number; rho?: number },
): Float64Array {
  checkScheduleOptions("opts", opts, ["steps", "sigmaMin", "sigmaMax", "rho"]);
  const { steps, sigmaMin = 0.002, sigmaMax = 80, rho = 7 } = opts;
  checkSigmaRange(sigmaMin, sigmaMax);
  checkNumber("rho", rho, { min: 0, minExclusive: true });
  const lo = sigmaMin ** (1 / rho), hi = sigmaMax ** (1 / rho);
  const levels = rampSchedule(steps, (r) => (hi + r * (lo - hi)) ** rho, {
    first: sigmaMax,
    last: sigmaMin,
  });
  return checkLevels(levels, ["steps", "sigmaMin", "sigmaMax", "rho"]);
}
