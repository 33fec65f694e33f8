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
import type { Parameterisation } from "./types.ts";

/** Evaluations of the native-time probability-flow ODE for one parameterisation. */
class NativeOde {
  readonly xHat: Float32Array;
  readonly denoised: Float32Array;

  constructor(readonly ctx: SamplerContext, readonly process: Parameterisation) {
    this.xHat = ctx.alloc();
    this.denoised = ctx.alloc();
  }

  /** x̂ = x / s into `xHat`. */
  async unscale(x: Float32Array, s: number): Promise<Float32Array> {
    this.xHat.set(x);
    if (s !== 1) await this.ctx.kernels.axpby(this.xHat, x, this.ctx.size, 1 / s, 0);
    return this.xHat;
  }

  /**
   * Writes `dx/dt = (σ'/σ + s'/s)·x − (σ'·s/σ)·D(x/s; σ)` (EDM eq. 4) at time t into `out`,
   * leaving x̂ and D in `xHat` and `denoised`.
   */
  async derivative(
    x: Float32Array,
    t: number,
    sigma: number,
    out: Float32Array,
  ): Promise<Float32Array> {
    const p = this.process, s = p.scale(t), sigmaDeriv = p.sigmaDeriv(t);
    await this.ctx.denoise(await this.unscale(x, s), sigma, this.denoised);
    out.set(x);
    await this.ctx.kernels.axpby(
      out,
      this.denoised,
      this.ctx.size,
      sigmaDeriv / sigma + p.scaleDeriv(t) / s,
      -(sigmaDeriv * s) / sigma,
    );
    return out;
  }
}

/** Scales a sigma-space state into native coordinates at time t, in place. */
async function scaleInPlace(
  ctx: SamplerContext,
  x: Float32Array,
  s: number,
): Promise<Float32Array> {
  if (s !== 1) await ctx.kernels.axpby(x, x, ctx.size, s, 0);
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
  const steps = sigmas.length - 1, n = ctx.size, k = ctx.kernels;
  const times = Array.from(sigmas, (s) => p.sigmaInv(s));
  const native = new NativeOde(ctx, p);
  const d1 = ctx.alloc(), d2 = ctx.alloc(), xNext = ctx.alloc();
  await scaleInPlace(ctx, x, p.scale(times[0]));
  for (let i = 0; i < steps; i++) {
    const h = times[i + 1] - times[i];
    await native.derivative(x, times[i], sigmas[i], d1);
    ctx.report(i, sigmas[i], sigmas[i], native.xHat, native.denoised);
    if (order === 1 || sigmas[i + 1] === 0) {
      await k.axpby(x, d1, n, 1, h);
      continue;
    }
    xNext.set(x);
    await k.axpby(xNext, d1, n, 1, h);
    await native.derivative(xNext, times[i + 1], sigmas[i + 1], d2);
    await k.axpby(x, d1, n, 1, h / 2);
    await k.axpby(x, d2, n, 1, h / 2);
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

/**
 * The probability-flow ODE of a Score SDE (Song et al. 2021, eq. 13) integrated in native time
 * by adaptive Dormand–Prince RK45 from t(σ₀) to t(σ_last > 0), then, when the schedule ends in
 * 0, one denoising step x̂ = D(x̂; σ_last). The grid supplies only the end points and the first
 * step size. The step size is shared by the batch, so rows agree with a one-row run only to
 * within the tolerances. `onStep` reports accepted steps.
 */
export const probabilityFlow: Sampler = async (ctx, x, sigmas, options) => {
  const { sde: p, rtol, atol, maxSteps } = readOptions("probability-flow", options, {
    sde: parameterisationOption("vp"),
    rtol: numberOption(1e-5, { min: 0, minExclusive: true }),
    atol: numberOption(1e-5, { min: 0, minExclusive: true }),
    maxSteps: numberOption(10_000, { min: 1, integer: true }),
  });
  const n = ctx.size, k = ctx.kernels;
  const endsInZero = sigmas[sigmas.length - 1] === 0;
  const sigmaEnd = endsInZero ? sigmas[sigmas.length - 2] : sigmas[sigmas.length - 1];
  const tStart = p.sigmaInv(sigmas[0]), tEnd = p.sigmaInv(sigmaEnd);
  const native = new NativeOde(ctx, p);
  const stages = Array.from({ length: 7 }, () => ctx.alloc());
  const xStage = ctx.alloc(), xNew = ctx.alloc(), err = ctx.alloc();
  await scaleInPlace(ctx, x, p.scale(tStart));
  let t = tStart;
  let h = sigmas.length > 2 && sigmas[1] > 0 ? p.sigmaInv(sigmas[1]) - tStart : tEnd - tStart;
  if (t !== tEnd) {
    await native.derivative(x, t, sigmas[0], stages[0]);
    ctx.report(0, sigmas[0], sigmas[0], native.xHat, native.denoised);
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
      xStage.set(x);
      for (let j = 0; j < s; j++) {
        if (DP_A[s][j] !== 0) await k.axpby(xStage, stages[j], n, 1, h * DP_A[s][j]);
      }
      const ts = t + DP_C[s] * h;
      await native.derivative(xStage, ts, p.sigma(ts), stages[s]);
    }
    xNew.set(x);
    for (let j = 0; j < 6; j++) {
      if (DP_B[j] !== 0) await k.axpby(xNew, stages[j], n, 1, h * DP_B[j]);
    }
    const tNew = last ? tEnd : t + h;
    await native.derivative(xNew, tNew, p.sigma(tNew), stages[6]);
    err.fill(0);
    for (let j = 0; j < 7; j++) if (DP_E[j] !== 0) await k.axpby(err, stages[j], n, 1, h * DP_E[j]);
    const norm = errorNorm(err, x, xNew, rtol, atol);
    if (norm <= 1) {
      x.set(xNew);
      t = tNew;
      [stages[0], stages[6]] = [stages[6], stages[0]];
      accepted++;
      const sigmaNow = p.sigma(t);
      ctx.report(accepted, sigmaNow, sigmaNow, native.xHat, native.denoised);
    }
    const factor = norm === 0 ? 10 : Math.min(10, Math.max(0.2, 0.9 * norm ** -0.2));
    h *= norm <= 1 ? factor : Math.min(1, factor);
  }
  await native.unscale(x, p.scale(tEnd));
  if (endsInZero) await ctx.denoise(native.xHat, sigmaEnd, x);
  else x.set(native.xHat);
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
  x: Float32Array,
  denoised: Float32Array,
  t: number,
  tNext: number,
  sigma: number,
  noise: Float32Array,
): Promise<void> {
  const delta = t - tNext, s = p.scale(t), sigmaDeriv = p.sigmaDeriv(t);
  const a = 1 - delta * (p.scaleDeriv(t) / s) - (2 * delta * sigmaDeriv) / sigma;
  const b = (2 * delta * sigmaDeriv * s) / sigma;
  const d = s * Math.sqrt(2 * sigma * sigmaDeriv * delta);
  await ctx.kernels.dpmppStep(x, denoised, null, await ctx.noise(noise), ctx.size, a, b, 0, d);
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
  const native = new NativeOde(ctx, p), noise = ctx.alloc();
  await scaleInPlace(ctx, x, p.scale(times[0]));
  for (let i = 0; i < steps; i++) {
    const s = p.scale(times[i]);
    await ctx.denoise(await native.unscale(x, s), sigmas[i], native.denoised);
    ctx.report(i, sigmas[i], sigmas[i], native.xHat, native.denoised);
    if (sigmas[i + 1] === 0) {
      x.set(native.denoised);
      return x;
    }
    await reverseSdeStep(ctx, p, x, native.denoised, times[i], times[i + 1], sigmas[i], noise);
  }
  return await scaleInPlace(ctx, x, 1 / p.scale(times[steps]));
};

/**
 * Predictor–corrector sampling (Song et al. 2021, Algorithms 2 and 3): at each level,
 * `correctorSteps` Langevin corrector updates with signal-to-noise ratio `snr` (per-sample step
 * 2α(snr·‖z‖/‖score‖)², α = s(t)²/s(t_next)², so a sample never depends on its batch), then one
 * reverse-SDE Euler–Maruyama predictor step; the step to σ = 0 returns the denoised state.
 */
export const predictorCorrector: Sampler = async (ctx, x, sigmas, options) => {
  const { sde: p, snr, correctorSteps } = readOptions("pc", options, {
    sde: parameterisationOption("vp"),
    snr: numberOption(0.16, { min: 0 }),
    correctorSteps: numberOption(1, { min: 0, integer: true }),
  });
  const steps = sigmas.length - 1, n = ctx.size, k = ctx.kernels;
  const times = Array.from(sigmas, (s) => p.sigmaInv(s));
  const native = new NativeOde(ctx, p), noise = ctx.alloc(), score = ctx.alloc();
  await scaleInPlace(ctx, x, p.scale(times[0]));
  for (let i = 0; i < steps; i++) {
    const t = times[i], s = p.scale(t), sigma = sigmas[i];
    const alpha = (s * s) / p.scale(times[i + 1]) ** 2;
    for (let j = 0; j < correctorSteps; j++) {
      await ctx.denoise(await native.unscale(x, s), sigma, native.denoised);
      score.set(x); // score = (s·D − x) / (s²σ²)
      await k.axpby(
        score,
        native.denoised,
        n,
        -1 / (s * s * sigma * sigma),
        1 / (s * sigma * sigma),
      );
      await k.langevinStep(x, score, await ctx.noise(noise), ctx.batch, ctx.dim, snr, alpha);
    }
    await ctx.denoise(await native.unscale(x, s), sigma, native.denoised);
    ctx.report(i, sigma, sigma, native.xHat, native.denoised);
    if (sigmas[i + 1] === 0) {
      x.set(native.denoised);
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
 */
export const annealedLangevin: Sampler = async (ctx, x, sigmas, options) => {
  const { stepSize, langevinSteps } = readOptions("annealed-langevin", options, {
    stepSize: numberOption(2e-5, { min: 0, minExclusive: true }),
    langevinSteps: numberOption(100, { min: 1, integer: true }),
  });
  const endsInZero = sigmas[sigmas.length - 1] === 0;
  const levels = endsInZero ? sigmas.length - 1 : sigmas.length;
  const sigmaLast = sigmas[levels - 1], n = ctx.size;
  const denoised = ctx.alloc(), noise = ctx.alloc();
  for (let i = 0; i < levels; i++) {
    const sigma = sigmas[i];
    const alpha = (stepSize * sigma * sigma) / (sigmaLast * sigmaLast);
    const toward = alpha / (2 * sigma * sigma); // (α/2)·score = toward·(D − x)
    for (let j = 0; j < langevinSteps; j++) {
      await ctx.denoise(x, sigma, denoised);
      if (j === 0) ctx.report(i, sigma, sigma, x, denoised);
      await ctx.kernels.dpmppStep(
        x,
        denoised,
        null,
        await ctx.noise(noise),
        n,
        1 - toward,
        toward,
        0,
        Math.sqrt(alpha),
      );
    }
  }
  if (endsInZero) {
    await ctx.denoise(x, sigmaLast, denoised);
    x.set(denoised);
  }
  return x;
};
