import { checkNumber } from "../_validate.ts";
import { checkLevels, checkScheduleOptions, checkSigmaRange, rampSchedule } from "./_schedule.ts";

/**
 * Noise levels polynomial in log σ: `log σ_i = log σ_min + (1 − i/(N−1))^ρ · log(σ_max/σ_min)`,
 * then a final zero. ρ = 1 is the exponential schedule.
 *
 * @param opts.steps Number of steps N (≥ 1).
 * @param opts.sigmaMin Lowest non-zero level (default 0.002).
 * @param opts.sigmaMax Highest level (default 80).
 * @param opts.rho Exponent ρ (default 1).
 * @returns N + 1 levels ending in 0.
 * @throws {TypeError | RangeError} On a non-integer `steps` or a bad range, or options
 *   whose levels would round to equal, infinite or NaN values.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { polyexponentialSigmas } from "./mod.ts";
 * const sigmas = polyexponentialSigmas({ steps: 3, sigmaMin: 1, sigmaMax: 16, rho: 2 });
 * assert.ok(Math.abs(sigmas[1] - 2) < 1e-12); // 16^(0.5²)
 * ```
 */
export function polyexponentialSigmas(
  opts: { steps: number; sigmaMin?: number; sigmaMax?: number; rho?: number },
): Float64Array {
  checkScheduleOptions("opts", opts, ["steps", "sigmaMin", "sigmaMax", "rho"]);
  const { steps, sigmaMin = 0.002, sigmaMax = 80, rho = 1 } = opts;
  checkSigmaRange(sigmaMin, sigmaMax);
  checkNumber("rho", rho, { min: 0, minExclusive: true });
  const lo = Math.log(sigmaMin), span = Math.log(sigmaMax) - lo;
  const levels = rampSchedule(steps, (r) => Math.exp(lo + (1 - r) ** rho * span), {
    first: sigmaMax,
    last: sigmaMin,
  });
  return checkLevels(levels, ["steps", "sigmaMin", "sigmaMax", "rho"]);
}
