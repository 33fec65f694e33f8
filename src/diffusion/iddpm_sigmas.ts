import { checkNumber } from "../_validate.ts";
import { iddpmLevels } from "./_iddpm.ts";
import { checkLevels, checkScheduleOptions, rampSchedule } from "./_schedule.ts";

/**
 * The iDDPM schedule of EDM (Karras et al. 2022, Table 1): levels picked from the model's own
 * discrete grid u_0 > … > u_M, `t_i = u_{⌊j₀ + (M−1−j₀)·i/(N−1) + ½⌋}`, then a final zero.
 *
 * @param opts.steps Number of steps N (≥ 1).
 * @param opts.c1 C₁ (default 0.001).
 * @param opts.c2 C₂ (default 0.008).
 * @param opts.m M, the training steps (default 1000).
 * @param opts.j0 First index j₀ (default 8, which puts σ_max near 80).
 * @returns N + 1 levels ending in 0.
 * @throws {TypeError | RangeError} On a non-integer `steps` or bad constants, or options
 *   whose levels would round to equal, infinite or NaN values.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { iddpmSigmas } from "./mod.ts";
 * const sigmas = iddpmSigmas({ steps: 18 });
 * assert.ok(sigmas[0] > 79 && sigmas[0] < 81);
 * ```
 */
export function iddpmSigmas(
  opts: { steps: number; c1?: number; c2?: number; m?: number; j0?: number },
): Float64Array {
  checkScheduleOptions("opts", opts, ["steps", "c1", "c2", "m", "j0"]);
  const { steps, c1 = 0.001, c2 = 0.008, m = 1000, j0 = 8 } = opts;
  checkNumber("c1", c1, { min: 0, minExclusive: true });
  checkNumber("c2", c2, { min: 0 });
  checkNumber("m", m, { min: 2, integer: true });
  checkNumber("j0", j0, { min: 0, max: m - 1, integer: true });
  checkNumber("steps", steps, { min: 1, max: m - j0, integer: true });
  const u = iddpmLevels(m, c1, c2);
  const levels = rampSchedule(steps, (r) => u[Math.floor(j0 + (m - 1 - j0) * r + 0.5)]);
  return checkLevels(levels, ["steps", "c1", "c2", "m", "j0"]);
}
