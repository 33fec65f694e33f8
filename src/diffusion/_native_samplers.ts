/**
 * Samplers that integrate in a process's native time t and scaled state x = s(t)·x̂ (EDM eq. 4
 * and Song et al. 2021): the general-s(t) ODE, the probability-flow ODE with adaptive RK45, the
 * reverse-SDE Euler–Maruyama, predictor–corrector, and SMLD's annealed Langevin dynamics.
 * They take and return sigma-space states, like every sampler; the conversion happens here.
 *
 * @module
 */
import {
  numberOption,
  parameterisationOption,
  readOptions,
  type Sampler,
  type SamplerContext,
} from "./_sampler_kit.ts";
import { NONE } from "../backends/diffusion.ts";
import type { Parameterisation } from "./types.ts";

/** Evaluations of the native-time probability-flow ODE for one parameterisation. */
class NativeOde {
  /** Slots of x̂ = x/s and D(x̂; σ) of the latest evaluation. */
  readonly xHat: number;
  readonly denoised: number;

  constructor(readonly ctx: SamplerContext, readonly process: Parameterisation) {
    this.xHat = ctx.buffer();
    this.denoised = ctx.buffer();
  }

  /** x̂ = x / s into `xHat`. */
  async unscale(x: number, s: number): Promise<number> {
    this.ctx.state.copy(this.xHat, x);
    if (s !== 1) await this.ctx.state.axpby(this.xHat, this.xHat, 1 / s, 0);
    return this.xHat;
  }

  /**
   * Writes `dx/dt = (σ'/σ + s'/s)·x − (σ'·s/σ)·D(x/s; σ)` (EDM eq. 4) at time t into `out`,
   * leaving x̂ and D in `xHat` and `denoised`.
   */
  async derivative(x: number, t: number, sigma: number, out: number): Promise<number> {
    const p = this.process, s = p.scale(t), sigmaDeriv = p.sigmaDeriv(t);
    await this.ctx.denoise(await this.unscale(x, s), sigma, this.denoised);
    this.ctx.state.copy(out, x);
    await this.ctx.state.axpby(
      out,
      this.denoised,
      sigmaDeriv / sigma + p.scaleDeriv(t) / s,
      -(sigmaDeriv * s) / sigma,
    );
    return out;
  }
}

/** Scales a sigma-space state into native coordinates at time t, in place. */
async function scaleInPlace(ctx: SamplerContext, x: number, s: number): Promise<number> {
  if (s !== 1) await ctx.state.axpby(x, x, s, 0);
  return x;
}

/**
 * EDM's deterministic sampler for a general σ(t) and s(t) (Karras et al. 2022, Algorithm 1):
 * Heun (order 2, default) or Euler (order 1) on dx/dt in the process's own time, so VP runs in
 * its native form. Times are t_i = σ⁻¹(σ_i); the step to σ = 0 is Euler.
 */
export const ode: Sampler = async (ctx, x, sigmas, options) => {
  const { parameterisation: p, order } = readOptions("ode", options, {
    parameterisation: parameterisationOption("edm"),
    order: numberOption(2, { min: 1, max: 2, integer: true }),
  });
  const steps = sigmas.length - 1, state = ctx.state;
  const times = Array.from(sigmas, (s) => p.sigmaInv(s));
  const native = new NativeOde(ctx, p);
  const d1 = ctx.buffer(), d2 = ctx.buffer(), xNext = ctx.buffer();
  await scaleInPlace(ctx, x, p.scale(times[0]));
  for (let i = 0; i < steps; i++) {
    const h = times[i + 1] - times[i];
    await native.derivative(x, times[i], sigmas[i], d1);
    ctx.report(i, sigmas[i], sigmas[i]);
    if (order === 1 || sigmas[i + 1] === 0) {
      await state.axpby(x, d1, 1, h);
      continue;
    }
    state.copy(xNext, x);
    await state.axpby(xNext, d1, 1, h);
    await native.derivative(xNext, times[i + 1], sigmas[i + 1], d2);
    await state.axpby(x, d1, 1, h / 2);
    await state.axpby(x, d2, 1, h / 2);
  }
  return await scaleInPlace(ctx, x, 1 / p.scale(times[steps]));
};

// Dormand–Prince 5(4) tableau (Dormand & Prince 1980), as used by scipy's RK45.
const DP_C = [0, 1 / 5, 3 / 10, 4 / 5, 8 / 9, 1];
const DP_A = [
  [],
  [1 / 5],
  [3 / 40, 9 / 40],
  [44 / 45, -56 / 15, 32 / 9],
  [19372 / 6561, -25360 / 2187, 64448 / 6561, -212 / 729],
  [9017 / 3168, -355 / 33, 46732 / 5247, 49 / 176, -5103 / 18656],
];
const DP_B = [35 / 384, 0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84];
/** Fifth- minus fourth-order weights, over the 7 stages (the 7th is the FSAL stage). */
const DP_E = [71 / 57600, 0, -71 / 16695, 71 / 1920, -17253 / 339200, 22 / 525, -1 / 40];

/** RMS of err / (atol + rtol·max(|x|, |xNew|)), the usual mixed error norm. */
function errorNorm(
  err: Float32Array,
  x: Float32Array,
  xNew: Float32Array,
  rtol: number,
  atol: number,
): number {
  let sum = 0;
  for (let i = 0; i < err.length; i++) {
    const e = err[i] / (atol + rtol * Math.max(Math.abs(x[i]), Math.abs(xNew[i])));
    sum += e * e;
  }
  return Math.sqrt(sum / err.length);
}

/** Host copies of workspace buffers for the error norm (views where the backend has them). */
class HostReader {
  readonly #copies: Float32Array[] = [];

  constructor(readonly ctx: SamplerContext) {}

  /** Buffer `slot` as a host array; `which` picks one of several copies alive at once. */
  async read(slot: number, which: number): Promise<Float32Array> {
    const view = this.ctx.state.view(slot);
    if (view !== null) return view;
    const copy = this.#copies[which] ??= new Float32Array(this.ctx.size);
    await this.ctx.state.gather(slot);
    this.ctx.state.read(slot, copy);
    return copy;
  }
}

/**
 * The probability-flow ODE of a Score SDE (Song et al. 2021, eq. 13) integrated in native time
 * by adaptive Dormand–Prince RK45 from t(σ₀) to t(σ_last > 0), then, when the schedule ends in
 * 0, one denoising step x̂ = D(x̂; σ_last). The grid supplies only the end points and the first
 * step size. `onStep` reports accepted steps.
 *
 * The step size is shared by the batch, as in Song et al.'s reference code (scipy's RK45 on the
 * flattened batch): a denoiser call takes one σ for all rows, so rows cannot keep their own
 * step sizes. A row's result therefore depends on its batch mates, though only within the
 * tolerances: for sample-exact reproducibility across batch sizes use a fixed-grid sampler.
 */
export const probabilityFlow: Sampler = async (ctx, x, sigmas, options) => {
  const { sde: p, rtol, atol, maxSteps } = readOptions("probability-flow", options, {
    sde: parameterisationOption("vp"),
    rtol: numberOption(1e-5, { min: 0, minExclusive: true }),
    atol: numberOption(1e-5, { min: 0, minExclusive: true }),
    maxSteps: numberOption(10_000, { min: 1, integer: true }),
  });
  const state = ctx.state, host = new HostReader(ctx);
  const endsInZero = sigmas[sigmas.length - 1] === 0;
  const sigmaEnd = endsInZero ? sigmas[sigmas.length - 2] : sigmas[sigmas.length - 1];
  const tStart = p.sigmaInv(sigmas[0]), tEnd = p.sigmaInv(sigmaEnd);
  const native = new NativeOde(ctx, p);
  const stages = Array.from({ length: 7 }, () => ctx.buffer());
  const xStage = ctx.buffer(), xNew = ctx.buffer(), err = ctx.buffer();
  await scaleInPlace(ctx, x, p.scale(tStart));
  let t = tStart;
  let h = sigmas.length > 2 && sigmas[1] > 0 ? p.sigmaInv(sigmas[1]) - tStart : tEnd - tStart;
  if (t !== tEnd) {
    await native.derivative(x, t, sigmas[0], stages[0]);
    ctx.report(0, sigmas[0], sigmas[0]);
  }
  let accepted = 0, attempts = 0;
  while (t !== tEnd) {
    if (++attempts > maxSteps) {
      throw new RangeError(
        `Expected "maxSteps" (${maxSteps}) to allow the RK45 integration to finish; it stopped at t = ${t}`,
      );
    }
    const last = Math.abs(h) >= Math.abs(tEnd - t);
    if (last) h = tEnd - t;
    for (let s = 1; s < 6; s++) {
      state.copy(xStage, x);
      for (let j = 0; j < s; j++) {
        if (DP_A[s][j] !== 0) await state.axpby(xStage, stages[j], 1, h * DP_A[s][j]);
      }
      const ts = t + DP_C[s] * h;
      await native.derivative(xStage, ts, p.sigma(ts), stages[s]);
    }
    state.copy(xNew, x);
    for (let j = 0; j < 6; j++) {
      if (DP_B[j] !== 0) await state.axpby(xNew, stages[j], 1, h * DP_B[j]);
    }
    const tNew = last ? tEnd : t + h;
    await native.derivative(xNew, tNew, p.sigma(tNew), stages[6]);
    state.copy(err, stages[0]);
    await state.axpby(err, err, h * DP_E[0], 0);
    for (let j = 1; j < 7; j++) {
      if (DP_E[j] !== 0) await state.axpby(err, stages[j], 1, h * DP_E[j]);
    }
    const norm = errorNorm(
      await host.read(err, 0),
      await host.read(x, 1),
      await host.read(xNew, 2),
      rtol,
      atol,
    );
    if (norm <= 1) {
      state.copy(x, xNew);
      t = tNew;
      [stages[0], stages[6]] = [stages[6], stages[0]];
      accepted++;
      const sigmaNow = p.sigma(t);
      ctx.report(accepted, sigmaNow, sigmaNow);
    }
    const factor = norm === 0 ? 10 : Math.min(10, Math.max(0.2, 0.9 * norm ** -0.2));
    h *= norm <= 1 ? factor : Math.min(1, factor);
  }
  await native.unscale(x, p.scale(tEnd));
  if (endsInZero) await ctx.denoise(native.xHat, sigmaEnd, x);
  else state.copy(x, native.xHat);
  return x;
};

/**
 * One Euler–Maruyama step of the reverse SDE dx = [f·x − g²∇log p_t]dt + g dw̄ (Song et al.
 * 2021, eq. 6) from t to t − Δ in native coordinates, with f = s'/s, g² = 2s²σσ' and
 * ∇log p_t(x) = (s·D − x)/(s²σ²).
 */
async function reverseSdeStep(
  ctx: SamplerContext,
  p: Parameterisation,
  x: number,
  denoised: number,
  t: number,
  tNext: number,
  sigma: number,
  noise: number,
): Promise<void> {
  const delta = t - tNext, s = p.scale(t), sigmaDeriv = p.sigmaDeriv(t);
  const a = 1 - delta * (p.scaleDeriv(t) / s) - (2 * delta * sigmaDeriv) / sigma;
  const b = (2 * delta * sigmaDeriv * s) / sigma;
  const d = s * Math.sqrt(2 * sigma * sigmaDeriv * delta);
  await ctx.noise(noise);
  await ctx.state.dpmppStep(x, denoised, NONE, noise, a, b, 0, d);
}

/**
 * Reverse-time SDE sampling by Euler–Maruyama (Song et al. 2021, §4.1 and eq. 6) for the VP
 * (default), sub-VP or VE SDE, in native time; the step to σ = 0 returns the denoised state
 * (Tweedie's formula, the "noise removal" step of Song et al.).
 */
export const reverseSde: Sampler = async (ctx, x, sigmas, options) => {
  const { sde: p } = readOptions("reverse-sde", options, { sde: parameterisationOption("vp") });
  const steps = sigmas.length - 1;
  const times = Array.from(sigmas, (s) => p.sigmaInv(s));
  const native = new NativeOde(ctx, p), noise = ctx.buffer();
  await scaleInPlace(ctx, x, p.scale(times[0]));
  for (let i = 0; i < steps; i++) {
    const s = p.scale(times[i]);
    await ctx.denoise(await native.unscale(x, s), sigmas[i], native.denoised);
    ctx.report(i, sigmas[i], sigmas[i]);
    if (sigmas[i + 1] === 0) {
      ctx.state.copy(x, native.denoised);
      return x;
    }
    await reverseSdeStep(ctx, p, x, native.denoised, times[i], times[i + 1], sigmas[i], noise);
  }
  return await scaleInPlace(ctx, x, 1 / p.scale(times[steps]));
};

/**
 * Predictor–corrector sampling (Song et al. 2021, Algorithms 2 and 3): at each level,
 * `correctorSteps` Langevin corrector updates x ← x + ε·∇log p + √(2ε)·z, then one reverse-SDE
 * Euler–Maruyama predictor step; the step to σ = 0 returns the denoised state.
 *
 * The corrector step is ε = 2α(snr·s(t)·σ)², α = s(t)²/s(t_next)²: Algorithm 5's
 * ε = 2α(snr·‖z‖/‖∇log p‖)² with both norms at their values for pure noise at this level
 * (‖z‖² ≈ dim, ‖∇log p‖² ≈ dim/(sσ)²). The rule as written, per sample, divides by the sample's
 * own score norm, which is small near a mode: in a few dimensions some samples then take huge
 * steps (on N(μ, s²) in one dimension the variance comes out thousands of times too large, and
 * still ~20% too large in eight); Song et al.'s code averages the norms over the batch, which
 * makes a sample depend on its batch mates. The fixed step is stable in any dimension,
 * independent of the batch, and never larger than the batch-averaged one (data only shrinks the
 * score norm), so the corrector is gentler at the lowest noise levels.
 */
export const predictorCorrector: Sampler = async (ctx, x, sigmas, options) => {
  const { sde: p, snr, correctorSteps } = readOptions("pc", options, {
    sde: parameterisationOption("vp"),
    snr: numberOption(0.16, { min: 0 }),
    correctorSteps: numberOption(1, { min: 0, integer: true }),
  });
  const steps = sigmas.length - 1, state = ctx.state;
  const times = Array.from(sigmas, (s) => p.sigmaInv(s));
  const native = new NativeOde(ctx, p), noise = ctx.buffer();
  await scaleInPlace(ctx, x, p.scale(times[0]));
  for (let i = 0; i < steps; i++) {
    const t = times[i], s = p.scale(t), sigma = sigmas[i];
    const alpha = (s * s) / p.scale(times[i + 1]) ** 2;
    const eps = 2 * alpha * (snr * s * sigma) ** 2;
    for (let j = 0; j < correctorSteps; j++) {
      await ctx.denoise(await native.unscale(x, s), sigma, native.denoised);
      await ctx.noise(noise);
      // ε·∇log p = ε·(s·D − x)/(s²σ²), so the update is affine in x, D and z.
      const toward = eps / (s * s * sigma * sigma);
      await state.dpmppStep(
        x,
        native.denoised,
        NONE,
        noise,
        1 - toward,
        toward * s,
        0,
        Math.sqrt(2 * eps),
      );
    }
    await ctx.denoise(await native.unscale(x, s), sigma, native.denoised);
    ctx.report(i, sigma, sigma);
    if (sigmas[i + 1] === 0) {
      state.copy(x, native.denoised);
      return x;
    }
    await reverseSdeStep(ctx, p, x, native.denoised, t, times[i + 1], sigma, noise);
  }
  return await scaleInPlace(ctx, x, 1 / p.scale(times[steps]));
};

/**
 * Annealed Langevin dynamics (Song & Ermon 2019, Algorithm 1, SMLD/NCSN) over the positive
 * levels of `sigmas`: `langevinSteps` updates x ← x + (α_i/2)·∇log p(x; σ_i) + √α_i·z per level
 * with α_i = stepSize·σ_i²/σ_L², the score taken from the denoiser as (D − x)/σ². A schedule
 * ending in 0 adds one final denoising step x = D(x; σ_L) (Jolicoeur-Martineau et al. 2021).
 *
 * The chain is not run to equilibrium: at level i it relaxes at a rate of about
 * α_i/(2(s² + σ_i²)) per step for data of scale s, so at the last levels, where α is smallest,
 * `langevinSteps` steps may close only part of the gap left by the level above. The result then
 * keeps some of that level's extra spread; that is the algorithm at its settings, not noise.
 * More steps per level or a larger `stepSize` shrink it.
 */
export const annealedLangevin: Sampler = async (ctx, x, sigmas, options) => {
  const { stepSize, langevinSteps } = readOptions("annealed-langevin", options, {
    stepSize: numberOption(2e-5, { min: 0, minExclusive: true }),
    langevinSteps: numberOption(100, { min: 1, integer: true }),
  });
  const endsInZero = sigmas[sigmas.length - 1] === 0;
  const levels = endsInZero ? sigmas.length - 1 : sigmas.length;
  const sigmaLast = sigmas[levels - 1];
  const denoised = ctx.buffer(), noise = ctx.buffer();
  for (let i = 0; i < levels; i++) {
    const sigma = sigmas[i];
    const alpha = (stepSize * sigma * sigma) / (sigmaLast * sigmaLast);
    const toward = alpha / (2 * sigma * sigma); // (α/2)·score = toward·(D − x)
    for (let j = 0; j < langevinSteps; j++) {
      await ctx.denoise(x, sigma, denoised);
      if (j === 0) ctx.report(i, sigma, sigma);
      await ctx.noise(noise);
      await ctx.state.dpmppStep(x, denoised, NONE, noise, 1 - toward, toward, 0, Math.sqrt(alpha));
    }
  }
  if (endsInZero) {
    await ctx.denoise(x, sigmaLast, denoised);
    ctx.state.copy(x, denoised);
  }
  return x;
};
