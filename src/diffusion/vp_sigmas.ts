import { checkNumber } from "../_validate.ts";
import { checkLevels, checkScheduleOptions, rampSchedule } from "./_schedule.ts";

/**
 * The VP schedule of EDM (Karras et al. 2022, Table 1): times evenly spaced from 1 down to ε_s,
 * `σ(t) = √(e^{½β_d t² + β_min t} − 1)`, then a final zero.
 *
 * @param opts.steps Number of steps N (≥ 1).
 * @param opts.betaD β_d (default 19.9).
 * @param opts.betaMin β_min (default 0.1).
 * @param opts.epsS Last time ε_s (default 1e-3).
 * @returns N + 1 levels ending in 0.
 * @throws {TypeError | RangeError} On a non-integer `steps` or bad constants, or options
 *   whose levels would round to equal, infinite or NaN values.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { vpSigmas } from "./mod.ts";
 * const sigmas = vpSigmas({ steps: 2 });
 * assert.ok(Math.abs(sigmas[0] - Math.sqrt(Math.exp(19.9 / 2 + 0.1) - 1)) < 1e-9);
 * ```
 */
export function vpSigmas(
  opts: { steps: number; betaD?: number; betaMin?: number; epsS?: number },
): Float64Array {
  checkScheduleOptions("opts", opts, ["steps", "betaD", "betaMin", "epsS"]);
  const { steps, betaD = 19.9, betaMin = 0.1, epsS = 1e-3 } = opts;
  checkNumber("betaD", betaD, { min: 0, minExclusive: true });
  checkNumber("betaMin", betaMin, { min: 0 });
  checkNumber("epsS", epsS, { min: 0, max: 1, minExclusive: true });
  const levels = rampSchedule(steps, (r) => {
    const t = 1 + r * (epsS - 1);
    return Math.sqrt(Math.expm1(0.5 * betaD * t * t + betaMin * t));
  });
  return checkLevels(levels, ["steps", "betaD", "betaMin", "epsS"]);
}
