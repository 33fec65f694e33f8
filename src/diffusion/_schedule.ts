/**
 * Pieces shared by the schedule functions: option checks and the trailing zero.
 *
 * @module
 */
import { checkNumber, checkOptions, show } from "../_validate.ts";

/** Validates the options object of a schedule and its `steps`. */
export function checkScheduleOptions(
  name: string,
  opts: unknown,
  known: readonly string[],
): void {
  if (opts === null || typeof opts !== "object" || Array.isArray(opts)) {
    throw new TypeError(`Expected "${name}" to be an options object but found ${show(opts)}`);
  }
  checkOptions(name, opts, known);
  checkNumber("steps", (opts as { steps?: unknown }).steps, { min: 1, integer: true });
}

/** Validates sigmaMin < sigmaMax, both finite and positive. */
export function checkSigmaRange(sigmaMin: number, sigmaMax: number): void {
  checkNumber("sigmaMin", sigmaMin, { min: 0, minExclusive: true });
  checkNumber("sigmaMax", sigmaMax, { min: sigmaMin, minExclusive: true });
}

/**
 * `steps` values from `f(ramp)` with ramp going 0 → 1 evenly, then a final zero. When the end
 * points are given they are stored exactly rather than round-tripped through powers and logs.
 */
export function rampSchedule(
  steps: number,
  f: (ramp: number) => number,
  ends?: { first: number; last: number },
): Float64Array {
  const out = new Float64Array(steps + 1);
  for (let i = 0; i < steps; i++) out[i] = f(steps === 1 ? 0 : i / (steps - 1));
  if (ends) {
    out[0] = ends.first;
    if (steps > 1) out[steps - 1] = ends.last;
  }
  return out;
}
