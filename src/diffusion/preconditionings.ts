import { checkNumber, checkOptions } from "../_validate.ts";
import { iddpmLevels, nearestLevel } from "./_iddpm.ts";
import type { Preconditioning } from "./types.ts";

/** VP (EDM Table 1): c_skip 1, c_out −σ, c_in 1/√(σ²+1), c_noise (M−1)·σ⁻¹(σ). */
function vp(opts?: { betaD?: number; betaMin?: number; m?: number }): Preconditioning {
  checkOptions("vp", opts, ["betaD", "betaMin", "m"]);
  const { betaD = 19.9, betaMin = 0.1, m = 1000 } = opts ?? {};
  checkNumber("betaD", betaD, { min: 0, minExclusive: true });
  checkNumber("betaMin", betaMin, { min: 0 });
  checkNumber("m", m, { min: 1, integer: true });
  return {
    name: "vp",
    cSkip: () => 1,
    cOut: (s) => -s,
    cIn: (s) => 1 / Math.sqrt(s * s + 1),
    cNoise: (s) =>
      (m - 1) * (Math.sqrt(betaMin * betaMin + 2 * betaD * Math.log1p(s * s)) - betaMin) / betaD,
  };
}

/** VE (EDM Table 1): c_skip 1, c_out σ, c_in 1, c_noise ln(σ/2). */
function ve(opts?: Record<string, never>): Preconditioning {
  checkOptions("ve", opts, []);
  return {
    name: "ve",
    cSkip: () => 1,
    cOut: (s) => s,
    cIn: () => 1,
    cNoise: (s) => Math.log(0.5 * s),
  };
}

/**
 * iDDPM (EDM Table 1): c_skip 1, c_out −σ, c_in 1/√(σ²+1), c_noise M − 1 − argmin_j |u_j − σ|
 * with C₁ = 0.001, C₂ = 0.008, M = 1000.
 */
function iddpm(opts?: { c1?: number; c2?: number; m?: number }): Preconditioning {
  checkOptions("iddpm", opts, ["c1", "c2", "m"]);
  const { c1 = 0.001, c2 = 0.008, m = 1000 } = opts ?? {};
  checkNumber("c1", c1, { min: 0, minExclusive: true });
  checkNumber("c2", c2, { min: 0 });
  checkNumber("m", m, { min: 1, integer: true });
  const u = iddpmLevels(m, c1, c2);
  return {
    name: "iddpm",
    cSkip: () => 1,
    cOut: (s) => -s,
    cIn: (s) => 1 / Math.sqrt(s * s + 1),
    cNoise: (s) => m - 1 - nearestLevel(u, s),
  };
}

/**
 * EDM (Karras et al. 2022, Table 1): c_skip σ_d²/(σ²+σ_d²), c_out σσ_d/√(σ²+σ_d²),
 * c_in 1/√(σ²+σ_d²), c_noise ¼ ln σ, with σ_data = 0.5.
 */
function edm(opts?: { sigmaData?: number }): Preconditioning {
  checkOptions("edm", opts, ["sigmaData"]);
  const { sigmaData = 0.5 } = opts ?? {};
  checkNumber("sigmaData", sigmaData, { min: 0, minExclusive: true });
  const d2 = sigmaData * sigmaData;
  return {
    name: "edm",
    cSkip: (s) => d2 / (s * s + d2),
    cOut: (s) => s * sigmaData / Math.sqrt(s * s + d2),
    cIn: (s) => 1 / Math.sqrt(s * s + d2),
    cNoise: (s) => 0.25 * Math.log(s),
  };
}

/**
 * The preconditionings of EDM's Table 1, each a factory taking its constants. Pass one to
 * {@link preconditionedDenoiser} to turn a raw network F into a denoiser.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { PRECONDITIONINGS } from "./mod.ts";
 * const edm = PRECONDITIONINGS.edm();
 * assert.equal(edm.cSkip(0.5), 0.5); // σ = σ_data splits evenly
 * ```
 */
export const PRECONDITIONINGS: {
  readonly vp: (opts?: { betaD?: number; betaMin?: number; m?: number }) => Preconditioning;
  readonly ve: (opts?: Record<string, never>) => Preconditioning;
  readonly iddpm: (opts?: { c1?: number; c2?: number; m?: number }) => Preconditioning;
  readonly edm: (opts?: { sigmaData?: number }) => Preconditioning;
} = Object.freeze({ vp, ve, iddpm, edm });

/** The names of {@link PRECONDITIONINGS}. */
export type PreconditioningName = keyof typeof PRECONDITIONINGS;
