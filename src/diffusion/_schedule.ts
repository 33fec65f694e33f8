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

/**
 * Returns `levels` (N + 1 noise levels, the last 0) after checking that they are finite and
 * strictly decreasing, as every sampler needs them. Options inside their own ranges can still
 * break that at the edges (σ_min ≈ σ_max over many steps, a tiny ρ, ᾱ underflowing to 0, an
 * ε_s of 1), where levels round to equal, infinite or NaN values: a RangeError naming the
 * options that set the levels says so.
 */
export function checkLevels(levels: Float64Array, options: readonly string[]): Float64Array {
  for (let i = 0; i + 1 < levels.length; i++) {
    if (!(Number.isFinite(levels[i]) && levels[i] > levels[i + 1])) {
      const names = options.map((o) => `"${o}"`);
      const list = names.length > 1
        ? `${names.slice(0, -1).join(", ")} and ${names[names.length - 1]}`
        : names[0];
      throw new RangeError(
        `Expected ${list} to give finite, strictly decreasing noise levels but level ${i} is ${
          levels[i]
        } and level ${i + 1} is ${levels[i + 1]}`,
      );
    }
  }
  return levels;
}
