import { checkChoice, checkNumber, show } from "../_validate.ts";
import { discreteTimesteps } from "./discrete_timesteps.ts";
import { checkLevels } from "./_schedule.ts";

/** The β schedules of discrete-time models. */
export const BETA_SCHEDULES = ["linear", "scaled-linear", "cosine"] as const;

function betas(
  schedule: (typeof BETA_SCHEDULES)[number],
  trainSteps: number,
  betaStart: number,
  betaEnd: number,
): Float64Array {
  const out = new Float64Array(trainSteps);
  const at = (i: number) => (trainSteps === 1 ? 0 : i / (trainSteps - 1));
  for (let i = 0; i < trainSteps; i++) {
    if (schedule === "linear") out[i] = betaStart + at(i) * (betaEnd - betaStart);
    else if (schedule === "scaled-linear") {
      const r = Math.sqrt(betaStart) + at(i) * (Math.sqrt(betaEnd) - Math.sqrt(betaStart));
      out[i] = r * r;
    } else {
      const alphaBar = (t: number) =>
        Math.cos(((t / trainSteps + 0.008) / 1.008) * Math.PI / 2) ** 2;
      out[i] = Math.min(1 - alphaBar(i + 1) / alphaBar(i), 0.999);
    }
  }
  return out;
}

/**
 * The noise levels of a discrete-time (DDPM-style) model at chosen timesteps:
 * `σ_t = √((1 − ᾱ_t)/ᾱ_t)` with ᾱ_t = Π_{i≤t}(1 − β_i), then a final zero. β schedules:
 * `linear` (Ho et al. 2020; 1e-4 … 0.02), `scaled-linear` (Stable Diffusion; linear in √β,
 * 0.00085 … 0.012) and `cosine` (Nichol & Dhariwal 2021).
 *
 * @param opts.steps Number of steps N.
 * @param opts.trainSteps T (default 1000).
 * @param opts.betaSchedule `linear` (default), `scaled-linear` or `cosine`.
 * @param opts.betaStart First β (linear schedules only).
 * @param opts.betaEnd Last β (linear schedules only).
 * @param opts.spacing Timestep spacing, see {@link discreteTimesteps} (default `leading`).
 * @param opts.offset Offset of `leading` timesteps (default 0).
 * @returns N + 1 levels ending in 0.
 * @throws {TypeError | RangeError} On bad counts, an unknown schedule or spacing, or options
 *   whose levels would round to equal, infinite or NaN values.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { discreteSigmas } from "./mod.ts";
 * const sigmas = discreteSigmas({ steps: 10, betaSchedule: "scaled-linear", spacing: "trailing" });
 * assert.ok(sigmas[0] > 14 && sigmas[0] < 15); // SD's σ_max ≈ 14.6
 * ```
 */
export function discreteSigmas(opts: {
  steps: number;
  trainSteps?: number;
  betaSchedule?: string;
  betaStart?: number;
  betaEnd?: number;
  spacing?: string;
  offset?: number;
}): Float64Array {
  if (opts === null || typeof opts !== "object") {
    throw new TypeError(`Expected "opts" to be an options object but found ${show(opts)}`);
  }
  const { betaSchedule = "linear", betaStart, betaEnd, ...spacingOpts } = opts;
  checkChoice("betaSchedule", betaSchedule, BETA_SCHEDULES);
  const timesteps = discreteTimesteps(spacingOpts);
  const trainSteps = spacingOpts.trainSteps ?? 1000;
  if (betaSchedule === "cosine" && (betaStart !== undefined || betaEnd !== undefined)) {
    throw new RangeError(`Expected no "betaStart" or "betaEnd" with the cosine schedule`);
  }
  const start = betaStart ?? (betaSchedule === "linear" ? 1e-4 : 0.00085);
  const end = betaEnd ?? (betaSchedule === "linear" ? 0.02 : 0.012);
  checkNumber("betaStart", start, { min: 0, max: 1, minExclusive: true });
  checkNumber("betaEnd", end, { min: 0, max: 1, minExclusive: true });
  const beta = betas(betaSchedule, trainSteps, start, end);
  const alphaBar = new Float64Array(trainSteps);
  let prod = 1;
  for (let i = 0; i < trainSteps; i++) alphaBar[i] = prod *= 1 - beta[i];
  const out = new Float64Array(timesteps.length + 1);
  for (let i = 0; i < timesteps.length; i++) {
    const a = alphaBar[timesteps[i]];
    out[i] = Math.sqrt((1 - a) / a);
  }
  // Large β make ᾱ underflow to 0 (σ = ∞) before the last training step.
  return checkLevels(out, ["betaStart", "betaEnd", "betaSchedule", "trainSteps"]);
}
