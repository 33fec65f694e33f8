import { checkChoice, checkNumber, checkOptions, show } from "../_validate.ts";

/** The timestep spacings of discrete-time models. */
export const TIMESTEP_SPACINGS = ["leading", "trailing", "linspace"] as const;

/** Rounds halves to even, as NumPy does, so the grids match reference implementations. */
function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * Picks `steps` of a discrete-time model's `trainSteps` timesteps, in decreasing order
 * (the spacings compared by Lin et al. 2024, "Common Diffusion Noise Schedules and Sample Steps
 * are Flawed", Table 2):
 *
 * - `leading`: 0, k, 2k, … with k = ⌊T/N⌋, plus `offset`;
 * - `trailing`: round(T − j·T/N) − 1, which always includes T − 1;
 * - `linspace`: round(linspace(0, T − 1, N)).
 *
 * @param opts.steps Number of steps N (1 ≤ N ≤ T).
 * @param opts.trainSteps T (default 1000).
 * @param opts.spacing One of `leading` (default), `trailing`, `linspace`.
 * @param opts.offset Added to `leading` timesteps (default 0), at most T − 1 − (N − 1)·⌊T/N⌋ so
 *   that the largest stays below T.
 * @returns N timesteps, decreasing.
 * @throws {TypeError | RangeError} On bad counts or an unknown spacing.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { discreteTimesteps } from "./mod.ts";
 * assert.deepEqual([...discreteTimesteps({ steps: 4, spacing: "trailing" })], [999, 749, 499, 249]);
 * ```
 */
export function discreteTimesteps(
  opts: { steps: number; trainSteps?: number; spacing?: string; offset?: number },
): Int32Array {
  if (opts === null || typeof opts !== "object") {
    throw new TypeError(`Expected "opts" to be an options object but found ${show(opts)}`);
  }
  checkOptions("opts", opts, ["steps", "trainSteps", "spacing", "offset"]);
  const { steps, trainSteps = 1000, spacing = "leading", offset = 0 } = opts;
  checkNumber("trainSteps", trainSteps, { min: 1, integer: true });
  checkNumber("steps", steps, { min: 1, max: trainSteps, integer: true });
  checkChoice("spacing", spacing, TIMESTEP_SPACINGS);
  // Leading timesteps are j·⌊T/N⌋ + offset: the largest, (N − 1)·⌊T/N⌋ + offset, must stay
  // below T (clamping it would repeat a timestep).
  const maxOffset = spacing === "leading"
    ? trainSteps - 1 - (steps - 1) * Math.floor(trainSteps / steps)
    : trainSteps - 1;
  checkNumber("offset", offset, { min: 0, max: maxOffset, integer: true });
  const out = new Int32Array(steps);
  for (let i = 0; i < steps; i++) {
    const j = steps - 1 - i; // index in increasing order
    if (spacing === "leading") {
      out[i] = j * Math.floor(trainSteps / steps) + offset;
    } else if (spacing === "trailing") {
      out[i] = roundHalfEven(trainSteps - i * (trainSteps / steps)) - 1;
    } else {
      out[i] = roundHalfEven(steps === 1 ? 0 : (j * (trainSteps - 1)) / (steps - 1));
    }
  }
  return out;
}
