import { checkNumber, checkOptions } from "../_validate.ts";
import type { Parameterisation } from "./types.ts";

type BetaOptions = { betaD?: number; betaMin?: number };

function readBetas(
  name: string,
  opts: BetaOptions | undefined,
): { betaD: number; betaMin: number } {
  checkOptions(name, opts, ["betaD", "betaMin"]);
  const { betaD = 19.9, betaMin = 0.1 } = opts ?? {};
  checkNumber("betaD", betaD, { min: 0, minExclusive: true });
  checkNumber("betaMin", betaMin, { min: 0 });
  return { betaD, betaMin };
}

/** t solving ½β_d t² + β_min t = integral (the integrated β of the VP family). */
function timeOfIntegral(integral: number, betaD: number, betaMin: number): number {
  return (Math.sqrt(betaMin * betaMin + 2 * betaD * integral) - betaMin) / betaD;
}

/** Variance preserving (Song et al. 2021; EDM Table 1): σ(t) = √(e^{½β_d t² + β_min t} − 1). */
function vp(opts?: BetaOptions): Parameterisation {
  const { betaD, betaMin } = readBetas("vp", opts);
  const integral = (t: number) => 0.5 * betaD * t * t + betaMin * t;
  const beta = (t: number) => betaD * t + betaMin;
  const sigma = (t: number) => Math.sqrt(Math.expm1(integral(t)));
  const scale = (t: number) => Math.exp(-0.5 * integral(t));
  return {
    name: "vp",
    sigma,
    sigmaDeriv: (t) => 0.5 * beta(t) * Math.exp(integral(t)) / sigma(t),
    sigmaInv: (s) => timeOfIntegral(Math.log1p(s * s), betaD, betaMin),
    scale,
    scaleDeriv: (t) => -0.5 * beta(t) * scale(t),
  };
}

/**
 * Sub-VP (Song et al. 2021, eq. 29): same mean as VP, variance (1 − e^{−B})², hence
 * σ(t) = 2 sinh(B/2) with B = ½β_d t² + β_min t.
 */
function subVp(opts?: BetaOptions): Parameterisation {
  const { betaD, betaMin } = readBetas("sub-vp", opts);
  const integral = (t: number) => 0.5 * betaD * t * t + betaMin * t;
  const beta = (t: number) => betaD * t + betaMin;
  const scale = (t: number) => Math.exp(-0.5 * integral(t));
  return {
    name: "sub-vp",
    sigma: (t) => 2 * Math.sinh(0.5 * integral(t)),
    sigmaDeriv: (t) => Math.cosh(0.5 * integral(t)) * beta(t),
    sigmaInv: (s) => timeOfIntegral(2 * Math.asinh(0.5 * s), betaD, betaMin),
    scale,
    scaleDeriv: (t) => -0.5 * beta(t) * scale(t),
  };
}

/** Variance exploding (EDM Table 1): σ(t) = √t, s(t) = 1. */
function ve(opts?: Record<string, never>): Parameterisation {
  checkOptions("ve", opts, []);
  return {
    name: "ve",
    sigma: (t) => Math.sqrt(t),
    sigmaDeriv: (t) => 0.5 / Math.sqrt(t),
    sigmaInv: (s) => s * s,
    scale: () => 1,
    scaleDeriv: () => 0,
  };
}

function identity(name: string, opts?: Record<string, never>): Parameterisation {
  checkOptions(name, opts, []);
  return {
    name,
    sigma: (t) => t,
    sigmaDeriv: () => 1,
    sigmaInv: (s) => s,
    scale: () => 1,
    scaleDeriv: () => 0,
  };
}

/**
 * Rectified flow / flow matching: x_t = (1 − t)·x₀ + t·ε, so s(t) = 1 − t and
 * σ(t) = t / (1 − t).
 */
function flow(opts?: Record<string, never>): Parameterisation {
  checkOptions("flow", opts, []);
  return {
    name: "flow",
    sigma: (t) => t / (1 - t),
    sigmaDeriv: (t) => 1 / ((1 - t) * (1 - t)),
    sigmaInv: (s) => (s === Infinity ? 1 : s / (1 + s)),
    scale: (t) => 1 - t,
    scaleDeriv: () => -1,
  };
}

/**
 * The diffusion processes of EDM's Table 1 (VP, VE, iDDPM, EDM) plus sub-VP (Song et al. 2021)
 * and flow matching, each a factory taking its constants (VP and sub-VP: `betaD` = 19.9,
 * `betaMin` = 0.1). Used by the native-time samplers (`ode`, `reverse-sde`,
 * `probability-flow`, `pc`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { PARAMETERISATIONS } from "./mod.ts";
 * const vp = PARAMETERISATIONS.vp();
 * assert.ok(Math.abs(vp.sigmaInv(vp.sigma(0.3)) - 0.3) < 1e-12);
 * ```
 */
export const PARAMETERISATIONS: {
  readonly vp: (opts?: BetaOptions) => Parameterisation;
  readonly "sub-vp": (opts?: BetaOptions) => Parameterisation;
  readonly ve: (opts?: Record<string, never>) => Parameterisation;
  readonly iddpm: (opts?: Record<string, never>) => Parameterisation;
  readonly edm: (opts?: Record<string, never>) => Parameterisation;
  readonly flow: (opts?: Record<string, never>) => Parameterisation;
} = Object.freeze({
  vp,
  "sub-vp": subVp,
  ve,
  iddpm: (opts?: Record<string, never>) => identity("iddpm", opts),
  edm: (opts?: Record<string, never>) => identity("edm", opts),
  flow,
});

/** The names of {@link PARAMETERISATIONS}. */
export type ParameterisationName = keyof typeof PARAMETERISATIONS;
