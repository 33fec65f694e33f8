/**
 * Deterministic samplers of the sigma-space probability-flow ODE dx/dσ = (x − D(x; σ))/σ
 * (Karras et al. 2022, eq. 3 with s ≡ 1). Euler, Heun and DPM2 accept EDM's churn.
 *
 * @module
 */
import {
  applyChurn,
  type Churn,
  churnOption,
  combine,
  numberOption,
  readOptions,
  type Sampler,
  type SamplerContext,
  solveSmall,
  type Term,
  toDerivative,
} from "./_sampler_kit.ts";
import { checkChoice } from "../_validate.ts";
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
    await state.eulerStep(x, denoised, sigmaHat, sigmas[i + 1]);
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
) => boolean | Promise<boolean>;

/** A two-evaluation method: where it evaluates second, and how it corrects x. */
export type TwoStageMethod = {
  secondLevel: (sigmaHat: number, sigmaNext: number) => number;
  correct: Correction;
};

/** The buffers of a two-stage run besides x. */
export type TwoStageBuffers = { denoised: number; xEval: number; denoisedEval: number };

export function twoStageBuffers(ctx: SamplerContext): TwoStageBuffers {
  return { denoised: ctx.buffer(), xEval: ctx.buffer(), denoisedEval: ctx.buffer() };
}

/**
 * What Heun and DPM2 share (Karras et al. 2022, Algorithm 2 with either second stage): churn to
 * σ̂, D at σ̂, an Euler predictor to a second level σ_eval, D there, then the method's own
 * correction of x. The step to σ = 0 is Euler alone, so N steps cost 2N − 1 evaluations.
 * `report` is the index in the whole schedule of sigmas[0], or null to report nothing (Restart's
 * excursions); churn's γ uses `churnSteps`, the whole schedule's N.
 */
export async function twoStageSteps(
  ctx: SamplerContext,
  x: number,
  sigmas: Float64Array,
  method: TwoStageMethod,
  buffers: TwoStageBuffers,
  churn: { churn: Churn | null; churnSteps: number; report: number | null },
): Promise<void> {
  const { denoised, xEval, denoisedEval } = buffers, state = ctx.state;
  for (let i = 0; i < sigmas.length - 1; i++) {
    const sigmaHat = await applyChurn(ctx, x, sigmas[i], churn.churn, churn.churnSteps, xEval);
    const sigmaNext = sigmas[i + 1];
    await ctx.denoise(x, sigmaHat, denoised);
    if (churn.report !== null) ctx.report(churn.report + i, sigmas[i], sigmaHat);
    if (sigmaNext === 0) {
      await state.eulerStep(x, denoised, sigmaHat, sigmaNext);
      continue;
    }
    const sigmaEval = method.secondLevel(sigmaHat, sigmaNext);
    await state.eulerStep(x, denoised, sigmaHat, sigmaEval, xEval);
    await ctx.denoise(xEval, sigmaEval, denoisedEval);
    const slots = { x, denoised, xEval, denoisedEval };
    await method.correct(state, slots, sigmaHat, sigmaEval, sigmaNext);
  }
}

function twoStage(name: string, method: TwoStageMethod): Sampler {
  return async (ctx, x, sigmas, options) => {
    const { churn } = readOptions(name, options, { churn: churnOption });
    const settings = { churn, churnSteps: sigmas.length - 1, report: 0 };
    await twoStageSteps(ctx, x, sigmas, method, twoStageBuffers(ctx), settings);
    return x;
  };
}

/** Heun's correction: the trapezoid of the derivatives at σ̂ and σ_next. */
export const HEUN: TwoStageMethod = {
  secondLevel: (_sigmaHat, sigmaNext) => sigmaNext,
  correct: (state, s, sigmaHat, _sigmaEval, sigmaNext) =>
    state.heunStep(s.x, s.denoised, s.xEval, s.denoisedEval, sigmaHat, sigmaNext),
};

/**
 * Heun's second-order method, Karras et al. (2022) Algorithm 1 (deterministic) and Algorithm 2
 * (with churn): the trapezoid of the derivatives at σ̂ and σ_next; the step to σ = 0 is plain
 * Euler, so N steps cost 2N − 1 evaluations.
 */
export const heun: Sampler = twoStage("heun", HEUN);

/**
 * DPM-Solver-2 (Lu et al. 2022, Algorithm 1 with r = ½) in Karras et al.'s sigma form: the
 * derivative at the geometric midpoint √(σ̂·σ_next) drives the whole step; accepts churn. The
 * step to σ = 0 is Euler.
 */
export const dpm2: Sampler = twoStage("dpm2", {
  secondLevel: (sigmaHat, sigmaNext) => Math.sqrt(sigmaHat * sigmaNext),
  correct: (state, s, sigmaHat, sigmaMid, sigmaNext) =>
    state.derivativeStep(s.x, s.xEval, s.denoisedEval, sigmaMid, sigmaNext - sigmaHat),
});

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
    history.unshift(await toDerivative(ctx, spare.pop() ?? ctx.buffer(), x, denoised, sigmas[i]));
    if (history.length > order) spare.push(history.pop()!);
    for (let j = 0; j < history.length; j++) {
      await ctx.state.axpby(x, history[j], 1, lmsCoefficient(history.length, sigmas, i, j));
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
      await state.dpmppStep(x, denoised, NONE, NONE, a, phi, 0, 0);
    } else {
      const halfInvR = h / (2 * hPrevious); // 1/(2r), r = h_prev / h
      const b = phi * (1 + halfInvR), c = -phi * halfInvR;
      await state.dpmppStep(x, denoised, previous, NONE, a, b, c, 0);
    }
    [denoised, previous] = [previous, denoised];
    hasPrevious = true;
    hPrevious = h;
  }
  return x;
};

/** Adams–Bashforth weights for equal steps, newest derivative first (orders 1–4). */
const ADAMS_BASHFORTH = [[1], [3 / 2, -1 / 2], [23 / 12, -16 / 12, 5 / 12], [
  55 / 24,
  -59 / 24,
  37 / 24,
  -9 / 24,
]];

/**
 * iPNDM (Zhang & Chen 2023, "Fast sampling of diffusion models with exponential integrator",
 * §4 and Appendix: the improved pseudo linear multistep method): Adams–Bashforth with the
 * equal-step weights of order `order` (default 4) on the derivatives (x − D)/σ, the order
 * building up over the first steps. One evaluation per step. Unlike `lms` it does not adapt its
 * weights to the uneven σ steps.
 */
export const ipndm: Sampler = async (ctx, x, sigmas, options) => {
  const { order } = readOptions("ipndm", options, {
    order: numberOption(4, { min: 1, max: 4, integer: true }),
  });
  const denoised = ctx.buffer(), history: number[] = [], spare: number[] = [];
  for (let i = 0; i < sigmas.length - 1; i++) {
    await ctx.denoise(x, sigmas[i], denoised);
    ctx.report(i, sigmas[i], sigmas[i]);
    history.unshift(await toDerivative(ctx, spare.pop() ?? ctx.buffer(), x, denoised, sigmas[i]));
    if (history.length > order) spare.push(history.pop()!);
    const dt = sigmas[i + 1] - sigmas[i], weights = ADAMS_BASHFORTH[history.length - 1];
    await combine(ctx.state, x, [[x, 1], ...history.map((d, j): Term => [d, dt * weights[j]])]);
  }
  return x;
};

/**
 * UniPC's weights for one step from λ_s to λ_s + h in data prediction (Zhao et al. 2023, §3:
 * UniP-p and UniC-p with the B(h) variants bh1/bh2): `ratios` are (λ_k − λ_s)/h of the earlier model
 * outputs used (negative), then 1 for the new one. ρ solves R·ρ = b, R the Vandermonde matrix of
 * the ratios, b from the φ-functions of −h; the predictor uses one fewer node.
 */
export function unipcWeights(h: number, ratios: number[], variant: "bh1" | "bh2") {
  const hh = -h, hPhi1 = Math.expm1(hh), scale = variant === "bh1" ? hh : Math.expm1(hh);
  const nodes = [...ratios, 1], order = nodes.length;
  const rows: number[][] = [], b: number[] = [];
  let hPhiK = hPhi1 / hh - 1, factorial = 1;
  for (let i = 1; i <= order; i++) {
    rows.push(nodes.map((r) => r ** (i - 1)));
    b.push((hPhiK * factorial) / scale);
    factorial *= i + 1;
    hPhiK = hPhiK / hh - 1 / factorial;
  }
  const sub = (n: number) => rows.slice(0, n).map((row) => row.slice(0, n));
  const predictor = order === 1
    ? []
    : order === 2
    ? [0.5]
    : solveSmall(sub(order - 1), b.slice(0, order - 1));
  const corrector = order === 1 ? [0.5] : solveSmall(sub(order), b);
  return { hPhi1, scale, predictor, corrector };
}

/** One model output of UniPC's history. */
type Output = { slot: number; lambda: number };

/**
 * The terms of `x_t = (σ_t/σ_s)·x_s − hφ₁·m₀ − B(h)·Σ ρ_k·(m_k − m₀)/r_k` (UniP), plus
 * `− B(h)·ρ_last·(m_t − m₀)` when the new output m_t is given (UniC).
 */
function unipcTerms(
  xs: number,
  ratio: number,
  history: Output[],
  lambdaT: number,
  variant: "bh1" | "bh2",
  newest?: number,
): Term[] {
  const [m0, ...earlier] = history, h = lambdaT - m0.lambda;
  const ratios = earlier.map((m) => (m.lambda - m0.lambda) / h);
  const w = unipcWeights(h, ratios, variant);
  const rho = newest === undefined ? w.predictor : w.corrector;
  const terms: Term[] = [[xs, ratio]];
  let onM0 = -w.hPhi1;
  earlier.forEach((m, k) => {
    const c = (w.scale * rho[k]) / ratios[k];
    terms.push([m.slot, -c]);
    onM0 += c;
  });
  if (newest !== undefined) {
    const c = w.scale * rho[rho.length - 1];
    terms.push([newest, -c]);
    onM0 += c;
  }
  terms.splice(1, 0, [m0.slot, onM0]);
  return terms;
}

/**
 * UniPC (Zhao et al. 2023, "UniPC: a unified predictor-corrector framework for fast sampling of
 * diffusion models", §3) in data prediction with B(h) = e^h − 1 ("bh2",
 * default) or h ("bh1"): a multistep predictor UniP of order `order` (2 or 3, default 2), and
 * after each evaluation the corrector UniC, which reuses that evaluation to raise the accuracy
 * by one order at no extra cost. One evaluation per step; the step to σ = 0 returns D.
 */
export const unipc: Sampler = async (ctx, x, sigmas, options) => {
  const { order, variant } = readOptions("unipc", options, {
    order: numberOption(2, { min: 1, max: 3, integer: true }),
    variant: (name, value) => {
      if (value === undefined) return "bh2" as const;
      checkChoice(name, value, ["bh1", "bh2"] as const);
      return value;
    },
  });
  const steps = sigmas.length - 1, state = ctx.state, lambda = (s: number) => -Math.log(s);
  const xPrev = ctx.buffer(), history: Output[] = [], spare: number[] = [];
  let lastOrder = 0;
  for (let i = 0; i < steps; i++) {
    const sigma = sigmas[i], sigmaNext = sigmas[i + 1], mT = spare.pop() ?? ctx.buffer();
    await ctx.denoise(x, sigma, mT);
    ctx.report(i, sigma, sigma);
    if (lastOrder > 0) {
      const used = history.slice(0, lastOrder), ratio = sigma / sigmas[i - 1];
      await combine(state, x, unipcTerms(xPrev, ratio, used, lambda(sigma), variant, mT));
    }
    history.unshift({ slot: mT, lambda: lambda(sigma) });
    if (history.length > order) spare.push(history.pop()!.slot);
    if (sigmaNext === 0) {
      state.copy(x, mT);
      continue;
    }
    lastOrder = Math.min(order, history.length);
    state.copy(xPrev, x);
    const used = history.slice(0, lastOrder);
    await combine(state, x, unipcTerms(x, sigmaNext / sigma, used, lambda(sigmaNext), variant));
  }
  return x;
};
