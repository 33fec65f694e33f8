import {
  annealedLangevin,
  ode,
  predictorCorrector,
  probabilityFlow,
  reverseSde,
} from "./_native_samplers.ts";
import { dpm2, dpmpp2m, euler, heun, ipndm, lms, unipc } from "./_ode_samplers.ts";
import type { Sampler } from "./_sampler_kit.ts";
import {
  ddim,
  ddpm,
  dpmpp2mSde,
  dpmpp2sAncestral,
  dpmpp3mSde,
  eulerAncestral,
  restart,
} from "./_stochastic_samplers.ts";

/**
 * Every sampler by name, all with one signature. Options each accepts (through
 * `sample({ samplerOptions })`; `churn` is the top-level option):
 *
 * | name | method | options |
 * |---|---|---|
 * | `euler` | Euler; EDM Alg. 2 with churn | churn |
 * | `heun` | EDM Alg. 1 / 2, 2N − 1 evaluations | churn |
 * | `dpm2` | DPM-Solver-2, midpoint in log σ | churn |
 * | `lms` | linear multistep | order (4) |
 * | `dpmpp-2m` | DPM-Solver++(2M), N evaluations | — |
 * | `unipc` | UniPC, UniP-p + UniC corrector, N evaluations | order (2; 1–3), variant ("bh2" or "bh1") |
 * | `ipndm` | iPNDM, equal-step Adams–Bashforth | order (4) |
 * | `euler-ancestral` | ancestral Euler | eta (1), sNoise (1) |
 * | `dpmpp-2s-ancestral` | DPM-Solver++(2S) ancestral, 2N − 1 evaluations | eta (1), sNoise (1) |
 * | `dpmpp-2m-sde` | DPM-Solver++(2M) SDE | eta (1), sNoise (1) |
 * | `dpmpp-3m-sde` | DPM-Solver++(3M) SDE | eta (1), sNoise (1) |
 * | `restart` | Restart (Heun + restarts) | tMin (0.1), tMax (2), restartSteps (N/4, ≥ 2), restartTimes (2), sNoise (1) |
 * | `ddim` | DDIM eq. 12 | eta (0) |
 * | `ddpm` | DDPM ancestral (Ho et al. Alg. 2) | — |
 * | `ode` | EDM Alg. 1 in native time for any σ(t), s(t) | parameterisation ("edm"), order (2) |
 * | `probability-flow` | Score-SDE PF ODE, adaptive RK45 | sde ("vp"), rtol, atol (1e-5), maxSteps |
 * | `reverse-sde` | Score-SDE reverse SDE, Euler–Maruyama | sde ("vp") |
 * | `pc` | predictor–corrector, Langevin corrector | sde ("vp"), snr (0.16), correctorSteps (1) |
 * | `annealed-langevin` | SMLD/NCSN annealed Langevin | stepSize (2e-5), langevinSteps (100) |
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SAMPLERS } from "./mod.ts";
 * assert.ok("heun" in SAMPLERS && "dpmpp-2m" in SAMPLERS);
 * ```
 */
export const SAMPLERS: {
  readonly euler: Sampler;
  readonly heun: Sampler;
  readonly dpm2: Sampler;
  readonly lms: Sampler;
  readonly "dpmpp-2m": Sampler;
  readonly unipc: Sampler;
  readonly ipndm: Sampler;
  readonly "euler-ancestral": Sampler;
  readonly "dpmpp-2s-ancestral": Sampler;
  readonly "dpmpp-2m-sde": Sampler;
  readonly "dpmpp-3m-sde": Sampler;
  readonly restart: Sampler;
  readonly ddim: Sampler;
  readonly ddpm: Sampler;
  readonly ode: Sampler;
  readonly "probability-flow": Sampler;
  readonly "reverse-sde": Sampler;
  readonly pc: Sampler;
  readonly "annealed-langevin": Sampler;
} = Object.freeze({
  euler,
  heun,
  dpm2,
  lms,
  "dpmpp-2m": dpmpp2m,
  unipc,
  ipndm,
  "euler-ancestral": eulerAncestral,
  "dpmpp-2s-ancestral": dpmpp2sAncestral,
  "dpmpp-2m-sde": dpmpp2mSde,
  "dpmpp-3m-sde": dpmpp3mSde,
  restart,
  ddim,
  ddpm,
  ode,
  "probability-flow": probabilityFlow,
  "reverse-sde": reverseSde,
  pc: predictorCorrector,
  "annealed-langevin": annealedLangevin,
});

/** The names of {@link SAMPLERS}. */
export type SamplerName = keyof typeof SAMPLERS;

export type { Sampler, SamplerContext } from "./_sampler_kit.ts";
