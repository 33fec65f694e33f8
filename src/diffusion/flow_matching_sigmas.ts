import { checkNumber } from "../_validate.ts";
import { checkLevels, checkScheduleOptions } from "./_schedule.ts";

/**
 * Levels for flow-matching / rectified-flow models (x_t = (1 − t)·x₀ + t·ε): times evenly
 * spaced from tMax to 0, shifted by `t′ = shift·t / (1 + (shift − 1)·t)` (the resolution shift of
 * Esser et al. 2024), mapped to sigma space by σ = t′/(1 − t′). In sigma space the shift is a
 * plain factor: σ′ = shift·σ.
 *
 * @param opts.steps Number of steps N (≥ 1).
 * @param opts.shift Resolution shift (default 1: none).
 * @param opts.tMax First time, below 1 where σ is infinite (default 0.999).
 * @returns N + 1 levels ending in 0.
 * @throws {TypeError | RangeError} On a non-integer `steps`, shift ≤ 0 or tMax outside (0, 1),
 *   or options whose levels would round to equal, infinite or NaN values.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { flowMatchingSigmas } from "./mod.ts";
 * const sigmas = flowMatchingSigmas({ steps: 2, tMax: 0.5, shift: 3 });
 * assert.ok(Math.abs(sigmas[0] - 3) < 1e-12 && Math.abs(sigmas[1] - 1) < 1e-12);
 * ```
 */
export function flowMatchingSigmas(
  opts: { steps: number; shift?: number; tMax?: number },
): Float64Array {
  checkScheduleOptions("opts", opts, ["steps", "shift", "tMax"]);
  const { steps, shift = 1, tMax = 0.999 } = opts;
  checkNumber("shift", shift, { min: 0, minExclusive: true });
  checkNumber("tMax", tMax, { min: 0, minExclusive: true });
  if (tMax >= 1) throw new RangeError(`Expected "tMax" to be < 1 but found ${tMax}`);
  const out = new Float64Array(steps + 1);
  for (let i = 0; i < steps; i++) {
    const t = tMax * (1 - i / steps);
    const shifted = (shift * t) / (1 + (shift - 1) * t);
    out[i] = shifted / (1 - shifted);
  }
  return checkLevels(out, ["steps", "shift", "tMax"]);
}
