/**
 * Deterministic samplers of the sigma-space probability-flow ODE dx/dσ = (x − D(x; σ))/σ
 * (Karras et al. 2022, eq. 3 with s ≡ 1). Euler, Heun and DPM2 accept EDM's churn.
 *
 * @module
 */
import {
  applyChurn,
  churnOption,
  numberOption,
  readOptions,
  type Sampler,
  type SamplerContext,
  toDerivative,
} from "./_sampler_kit.ts";
import { NONE } from "../backends/diffusion.ts";

/** Euler's method; with churn, EDM's Algorithm 2 with a first-order step (Karras et al. 2022). */
export const euler: Sampler = async (ctx, x, sigmas, options) => {
  const { churn } = readOptions("euler", options, { churn: churnOption });
  const steps = sigmas.length - 1, state = ctx.state;
  const denoised = ctx.buffer(), scratch = churn === null ? NONE : ctx.buffer();
  for (let i = 0; i < steps; i++) {
    const sigmaHat = await applyChurn(ctx, x, sigmas[i], churn, steps, scratch);
    await ctx.denoise(x, sigmaHat, denoised);
    ctx.report(i, sigmas[i], sigmaHat);
    state.eulerStep(x, denoised, sigmaHat, sigmas[i + 1]);
  }
  return x;
};

/** The correction of a two-evaluation step, from D at σ̂ and D at the second level σ_eval. */
type Correction = (
  state: SamplerContext["state"],
  slots: { x: number; denoised: number; xEval: number; denoisedEval: number },
  sigmaHat: number,
  sigmaEval: number,
  sigmaNext: number,
) => void;

/**
 * What Heun and DPM2 share (Karras et al. 2022, Algorithm 2 with either second stage): churn to
 * σ̂, D at σ̂, an Euler predictor to a second level σ_eval, D there, then the method's own
 * correction of x. The step to σ = 0 is Euler alone, so N steps cost 2N − 1 evaluations.
 */
function twoStage(
  name: string,
  secondLevel: (sigmaHat: number, sigmaNext: number) => number,
  correct: Correction,
): Sampler {
  return async (ctx, x, sigmas, options) => {
    const { churn } = readOptions(name, options, { churn: churnOption });
    const steps = sigmas.length - 1, state = ctx.state;
    const denoised = ctx.buffer(), xEval = ctx.buffer(), denoisedEval = ctx.buffer();
    for (let i = 0; i < steps; i++) {
      const sigmaHat = await applyChurn(ctx, x, sigmas[i], churn, steps, xEval);
      const sigmaNext = sigmas[i + 1];
      await ctx.denoise(x, sigmaHat, denoised);
      ctx.report(i, sigmas[i], sigmaHat);
      if (sigmaNext === 0) {
        state.eulerStep(x, denoised, sigmaHat, sigmaNext);
        continue;
      }
      const sigmaEval = secondLevel(sigmaHat, sigmaNext);
      state.eulerStep(x, denoised, sigmaHat, sigmaEval, xEval);
      await ctx.denoise(xEval, sigmaEval, denoisedEval);
      correct(state, { x, denoised, xEval, denoisedEval }, sigmaHat, sigmaEval, sigmaNext);
    }
    return x;
  };
}

/**
 * Heun's second-order method, Karras et al. (2022) Algorithm 1 (deterministic) and Algorithm 2
 * (with churn): the trapezoid of the derivatives at σ̂ and σ_next; the step to σ = 0 is plain
 * Euler, so N steps cost 2N − 1 evaluations.
 */
export const heun: Sampler = twoStage(
  "heun",
  (_sigmaHat, sigmaNext) => sigmaNext,
  (state, s, sigmaHat, _sigmaEval, sigmaNext) =>
    state.heunStep(s.x, s.denoised, s.xEval, s.denoisedEval, sigmaHat, sigmaNext),
);

/**
 * DPM-Solver-2 (Lu et al. 2022, Algorithm 1 with r = ½) in Karras et al.'s sigma form: the
 * derivative at the geometric midpoint √(σ̂·σ_next) drives the whole step; accepts churn. The
 * step to σ = 0 is Euler.
 */
export const dpm2: Sampler = twoStage(
  "dpm2",
  (sigmaHat, sigmaNext) => Math.sqrt(sigmaHat * sigmaNext),
  (state, s, sigmaHat, sigmaMid, sigmaNext) =>
    state.derivativeStep(s.x, s.xEval, s.denoisedEval, sigmaMid, sigmaNext - sigmaHat),
);

/**
 * ∫ from sigmas[i] to sigmas[i+1] of the Lagrange basis polynomial that is 1 at sigmas[i − j]
 * and 0 at the other `order − 1` nodes sigmas[i − k]; exact polynomial integration, in a
 * variable shifted to sigmas[i] to keep the powers small.
 */
export function lmsCoefficient(order: number, sigmas: Float64Array, i: number, j: number): number {
  const origin = sigmas[i];
  let poly = [1]; // coefficients of τ⁰, τ¹, … with τ = σ − origin
  for (let k = 0; k < order; k++) {
    if (k === j) continue;
    const root = sigmas[i - k] - origin, denom = sigmas[i - j] - sigmas[i - k];
    const next = new Array(poly.length + 1).fill(0);
    for (let p = 0; p < poly.length; p++) {
      next[p + 1] += poly[p] / denom;
      next[p] -= (poly[p] * root) / denom;
    }
    poly = next;
  }
  const end = sigmas[i + 1] - origin;
  let integral = 0;
  for (let p = 0; p < poly.length; p++) integral += (poly[p] * end ** (p + 1)) / (p + 1);
  return integral;
}

/**
 * Linear multistep (Adams–Bashforth on the non-uniform sigma grid; the "LMS" sampler of
 * Karras et al. 2022's k-diffusion): x_{i+1} = x_i + Σ_j c_j d_{i−j} with c_j the exact
 * integrals of the Lagrange basis over [σ_i, σ_{i+1}]. One evaluation per step.
 */
export const lms: Sampler = async (ctx, x, sigmas, options) => {
  const { order } = readOptions("lms", options, {
    order: numberOption(4, { min: 1, max: 4, integer: true }),
  });
  const steps = sigmas.length - 1;
  const denoised = ctx.buffer();
  const history: number[] = []; // slots of past derivatives, newest first
  const spare: number[] = [];
  for (let i = 0; i < steps; i++) {
    await ctx.denoise(x, sigmas[i], denoised);
    ctx.report(i, sigmas[i], sigmas[i]);
    history.unshift(toDerivative(ctx, spare.pop() ?? ctx.buffer(), x, denoised, sigmas[i]));
    if (history.length > order) spare.push(history.pop()!);
    for (let j = 0; j < history.length; j++) {
      ctx.state.axpby(x, history[j], 1, lmsCoefficient(history.length, sigmas, i, j));
    }
  }
  return x;
};

/**
 * DPM-Solver++(2M) (Lu et al. 2022b, Algorithm 2), multistep second order in λ = −log σ, one
 * evaluation per step; the first step and the step to σ = 0 are first order.
 */
export const dpmpp2m: Sampler = async (ctx, x, sigmas, options) => {
  readOptions("dpmpp-2m", options, {});
  const steps = sigmas.length - 1, state = ctx.state;
  let denoised = ctx.buffer(), previous = ctx.buffer();
  let hasPrevious = false, hPrevious = 0;
  for (let i = 0; i < steps; i++) {
    const sigma = sigmas[i], sigmaNext = sigmas[i + 1];
    await ctx.denoise(x, sigma, denoised);
    ctx.report(i, sigma, sigma);
    const h = Math.log(sigma) - Math.log(sigmaNext); // Infinity on the step to 0
    const a = sigmaNext / sigma, phi = -Math.expm1(-h);
    if (!hasPrevious || sigmaNext === 0) {
      state.dpmppStep(x, denoised, NONE, NONE, a, phi, 0, 0);
    } else {
      const halfInvR = h / (2 * hPrevious); // 1/(2r), r = h_prev / h
      state.dpmppStep(x, denoised, previous, NONE, a, phi * (1 + halfInvR), -phi * halfInvR, 0);
    }
    [denoised, previous] = [previous, denoised];
    hasPrevious = true;
    hPrevious = h;
  }
  return x;
};
