/**
 * Samplers that add fresh noise at every step, in sigma space: ancestral Euler, DPM-Solver++
 * (2S) ancestral, DPM-Solver++ (2M) and (3M) SDE, DDIM with η, DDPM's ancestral sampler, and
 * Restart, which interleaves exact-ODE stretches with large noise injections.
 *
 * @module
 */
import { NONE } from "../backends/diffusion.ts";
import {
  ancestralSplit,
  combine,
  numberOption,
  readOptions,
  type Sampler,
} from "./_sampler_kit.ts";
import { HEUN, twoStageBuffers, twoStageSteps } from "./_ode_samplers.ts";

/**
 * Euler ancestral (k-diffusion's sampler after Ho et al. 2020, Algorithm 2): an Euler step to
 * σ_down, then fresh noise σ_up, with σ_down² + σ_up² = σ_next²; η scales the noise (η = 1: full
 * ancestral, η = 0: Euler).
 */
export const eulerAncestral: Sampler = async (ctx, x, sigmas, options) => {
  const { eta, sNoise } = readOptions("euler-ancestral", options, {
    eta: numberOption(1, { min: 0 }),
    sNoise: numberOption(1, { min: 0 }),
  });
  const steps = sigmas.length - 1, state = ctx.state;
  const denoised = ctx.buffer(), noise = ctx.buffer();
  for (let i = 0; i < steps; i++) {
    const sigma = sigmas[i];
    await ctx.denoise(x, sigma, denoised);
    ctx.report(i, sigma, sigma);
    const { sigmaDown, sigmaUp } = ancestralSplit(sigma, sigmas[i + 1], eta);
    if (sigmaUp > 0) {
      await ctx.noise(noise);
      await state.ancestralStep(x, denoised, noise, sigma, sigmaDown, sigmaUp * sNoise);
    } else {
      await state.eulerStep(x, denoised, sigma, sigmaDown);
    }
  }
  return x;
};

/**
 * DPM-Solver++(2M) SDE (Lu et al. 2022b, §4 with the midpoint second-order correction, as in
 * k-diffusion): the data-prediction SDE solved exactly in its linear part, with
 * `x ← (σ_next/σ)e^{−ηh}x + (1 − e^{−h−ηh})D_eff + σ_next√(1 − e^{−2ηh})·S_noise·z`.
 */
export const dpmpp2mSde: Sampler = async (ctx, x, sigmas, options) => {
  const { eta, sNoise } = readOptions("dpmpp-2m-sde", options, {
    eta: numberOption(1, { min: 0 }),
    sNoise: numberOption(1, { min: 0 }),
  });
  const steps = sigmas.length - 1, state = ctx.state;
  let denoised = ctx.buffer(), previous = ctx.buffer();
  const noise = ctx.buffer();
  let hasPrevious = false, hPrevious = 0;
  for (let i = 0; i < steps; i++) {
    const sigma = sigmas[i], sigmaNext = sigmas[i + 1];
    await ctx.denoise(x, sigma, denoised);
    ctx.report(i, sigma, sigma);
    if (sigmaNext === 0) {
      state.copy(x, denoised);
      continue;
    }
    const h = Math.log(sigma) - Math.log(sigmaNext), etaH = eta * h;
    const a = (sigmaNext / sigma) * Math.exp(-etaH);
    const phi = -Math.expm1(-h - etaH);
    const noiseScale = sigmaNext * Math.sqrt(-Math.expm1(-2 * etaH)) * sNoise;
    const z = noiseScale > 0 ? noise : NONE;
    if (z !== NONE) await ctx.noise(z);
    if (hasPrevious) {
      const halfInvR = h / (2 * hPrevious); // midpoint correction ½·(1/r)
      const b = phi * (1 + halfInvR), c = -phi * halfInvR;
      await state.dpmppStep(x, denoised, previous, z, a, b, c, noiseScale);
    } else {
      await state.dpmppStep(x, denoised, NONE, z, a, phi, 0, noiseScale);
    }
    [denoised, previous] = [previous, denoised];
    hasPrevious = true;
    hPrevious = h;
  }
  return x;
};

/** ᾱ = 1/(1+σ²) and 1 − ᾱ = σ²/(1+σ²) without cancellation. */
function alphaBar(sigma: number): { alphaBar: number; oneMinus: number } {
  const s2 = sigma * sigma;
  return { alphaBar: 1 / (1 + s2), oneMinus: s2 / (1 + s2) };
}

/**
 * DDIM (Song, Meng & Ermon 2021, eq. 12) in its native variance-preserving form
 * x_t = √ᾱ·x̂ with ᾱ = 1/(1+σ²):
 * `x_{t'} = √ᾱ'·x̂₀ + √(1 − ᾱ' − σ_η²)·ε̂ + σ_η·z`,
 * `σ_η = η·√((1−ᾱ')/(1−ᾱ))·√(1 − ᾱ/ᾱ')`. With η = 0 it is Euler on x/√ᾱ.
 */
export const ddim: Sampler = async (ctx, x, sigmas, options) => {
  const { eta } = readOptions("ddim", options, { eta: numberOption(0, { min: 0 }) });
  const steps = sigmas.length - 1;
  const denoised = ctx.buffer(), noise = eta > 0 ? ctx.buffer() : NONE;
  for (let i = 0; i < steps; i++) {
    const sigma = sigmas[i], sigmaNext = sigmas[i + 1];
    await ctx.denoise(x, sigma, denoised);
    ctx.report(i, sigma, sigma);
    const now = alphaBar(sigma), next = alphaBar(sigmaNext);
    const stepVariance = (sigma * sigma - sigmaNext * sigmaNext) / (1 + sigma * sigma); // 1 − ᾱ/ᾱ'
    const sigmaEta = eta * Math.sqrt((next.oneMinus / now.oneMinus) * stepVariance);
    const epsScale = Math.sqrt(Math.max(0, next.oneMinus - sigmaEta * sigmaEta));
    const sqrtNext = Math.sqrt(next.alphaBar), sqrtNow = Math.sqrt(now.alphaBar);
    // ε̂ = (x_t − √ᾱ·x̂₀)/√(1−ᾱ) with x_t = √ᾱ·x, then everything divided by √ᾱ'.
    const epsPerX = sqrtNow / Math.sqrt(now.oneMinus);
    const c = (epsScale * epsPerX) / sqrtNext;
    const noiseScale = sigmaEta / sqrtNext;
    const z = noiseScale > 0 ? noise : NONE;
    if (z !== NONE) await ctx.noise(z);
    await ctx.state.dpmppStep(x, denoised, NONE, z, c, 1 - c, 0, noiseScale);
  }
  return x;
};

/**
 * DDPM ancestral sampling (Ho et al. 2020, Algorithm 2) on an arbitrary sigma grid: the
 * posterior q(x_{t'} | x_t, x̂₀) with β = 1 − ᾱ/ᾱ', mean
 * `√ᾱ'·β/(1−ᾱ)·x̂₀ + √(ᾱ/ᾱ')·(1−ᾱ')/(1−ᾱ)·x_t` and variance β̃ = (1−ᾱ')/(1−ᾱ)·β.
 */
export const ddpm: Sampler = async (ctx, x, sigmas, options) => {
  readOptions("ddpm", options, {});
  const steps = sigmas.length - 1;
  const denoised = ctx.buffer(), noise = ctx.buffer();
  for (let i = 0; i < steps; i++) {
    const sigma = sigmas[i], sigmaNext = sigmas[i + 1];
    await ctx.denoise(x, sigma, denoised);
    ctx.report(i, sigma, sigma);
    const now = alphaBar(sigma), next = alphaBar(sigmaNext);
    const beta = (sigma * sigma - sigmaNext * sigmaNext) / (1 + sigma * sigma);
    const sqrtNext = Math.sqrt(next.alphaBar), sqrtNow = Math.sqrt(now.alphaBar);
    const onX0 = (sqrtNext * beta) / now.oneMinus;
    const onXt = (Math.sqrt(now.alphaBar / next.alphaBar) * next.oneMinus) / now.oneMinus;
    const posteriorStd = Math.sqrt((next.oneMinus / now.oneMinus) * beta);
    // x_t = √ᾱ·x; the result is divided by √ᾱ' to return to sigma space.
    const noiseScale = posteriorStd / sqrtNext;
    const z = noiseScale > 0 ? noise : NONE;
    if (z !== NONE) await ctx.noise(z);
    await ctx.state.dpmppStep(
      x,
      denoised,
      NONE,
      z,
      (onXt * sqrtNow) / sqrtNext,
      onX0 / sqrtNext,
      0,
      noiseScale,
    );
  }
  return x;
};

/**
 * DPM-Solver++(2S) ancestral (Lu et al. 2022b, Algorithm 1 "DPM-Solver++(2S)" with r = ½, made
 * ancestral as in k-diffusion): a second-order single-step data-prediction step to σ_down
 * through D at the λ-midpoint √(σ·σ_down), then fresh noise σ_up (see `euler-ancestral`); η = 0
 * gives the deterministic DPM-Solver++(2S). N steps cost 2N − 1 evaluations.
 */
export const dpmpp2sAncestral: Sampler = async (ctx, x, sigmas, options) => {
  const { eta, sNoise } = readOptions("dpmpp-2s-ancestral", options, {
    eta: numberOption(1, { min: 0 }),
    sNoise: numberOption(1, { min: 0 }),
  });
  const steps = sigmas.length - 1, state = ctx.state;
  const denoised = ctx.buffer(), xMid = ctx.buffer(), denoisedMid = ctx.buffer();
  const noise = ctx.buffer();
  for (let i = 0; i < steps; i++) {
    const sigma = sigmas[i];
    await ctx.denoise(x, sigma, denoised);
    ctx.report(i, sigma, sigma);
    const { sigmaDown, sigmaUp } = ancestralSplit(sigma, sigmas[i + 1], eta);
    let d = denoised;
    if (sigmaDown > 0) {
      const sigmaMid = Math.sqrt(sigma * sigmaDown);
      await state.eulerStep(x, denoised, sigma, sigmaMid, xMid); // first-order to the midpoint
      await ctx.denoise(xMid, sigmaMid, denoisedMid);
      d = denoisedMid;
    }
    const a = sigmaDown / sigma, up = sigmaUp * sNoise;
    if (up > 0) await ctx.noise(noise);
    await state.dpmppStep(x, d, NONE, up > 0 ? noise : NONE, a, 1 - a, 0, up);
  }
  return x;
};

/**
 * The weights of D₀ (newest), D₁, D₂ in a DPM-Solver++ multistep update over H = (1 + η)h with
 * earlier step ratios r₀ = h₁/h, r₁ = h₂/h (Lu et al. 2022b, §3.2; the φ-function form of
 * k-diffusion's 3M SDE): `φ₁D₀ + φ₂·d₁ − φ₃·d₂` with d₁, d₂ the divided differences of the
 * outputs, φ₁ = 1 − e^{−H}, φ₂ = 1 − φ₁/H, φ₃ = φ₂/H − ½. Fewer outputs give the lower orders.
 */
export function dpmppMultistepWeights(h: number, eta: number, r: number[]): number[] {
  const big = (1 + eta) * h, phi1 = -Math.expm1(-big);
  const phi2 = 1 - phi1 / big, phi3 = phi2 / big - 0.5;
  if (r.length === 0) return [phi1];
  const [r0, r1] = r;
  const d10 = [1 / r0, -1 / r0, 0]; // (D₀ − D₁)/r₀
  if (r.length === 1) return [phi1 + phi2 * d10[0], phi2 * d10[1]];
  const d11 = [0, 1 / r1, -1 / r1]; // (D₁ − D₂)/r₁
  return [0, 1, 2].map((k) => {
    const diff = d10[k] - d11[k];
    const first = d10[k] + (diff * r0) / (r0 + r1), second = diff / (r0 + r1);
    return (k === 0 ? phi1 : 0) + phi2 * first - phi3 * second;
  });
}

/**
 * DPM-Solver++(3M) SDE (Lu et al. 2022b's third-order multistep data-prediction solver, in
 * k-diffusion's SDE form): the data-prediction SDE's linear part solved exactly,
 * `x ← (σ_next/σ)e^{−ηh}x + Σ w_k D_k + σ_next√(1 − e^{−2ηh})·S_noise·z`, with third-order
 * weights from the last three outputs (lower orders at the start). η = 0 gives the
 * deterministic DPM-Solver++(3M). One evaluation per step; the step to σ = 0 returns D.
 */
export const dpmpp3mSde: Sampler = async (ctx, x, sigmas, options) => {
  const { eta, sNoise } = readOptions("dpmpp-3m-sde", options, {
    eta: numberOption(1, { min: 0 }),
    sNoise: numberOption(1, { min: 0 }),
  });
  const steps = sigmas.length - 1, state = ctx.state, noise = ctx.buffer();
  let outputs = [ctx.buffer(), ctx.buffer(), ctx.buffer()]; // D₀, D₁, D₂
  const pastH: number[] = []; // h₁, h₂
  for (let i = 0; i < steps; i++) {
    const sigma = sigmas[i], sigmaNext = sigmas[i + 1];
    await ctx.denoise(x, sigma, outputs[0]);
    ctx.report(i, sigma, sigma);
    if (sigmaNext === 0) {
      state.copy(x, outputs[0]);
      continue;
    }
    const h = Math.log(sigma / sigmaNext);
    const weights = dpmppMultistepWeights(h, eta, pastH.map((hk) => hk / h));
    const up = sigmaNext * Math.sqrt(-Math.expm1(-2 * eta * h)) * sNoise;
    if (up > 0) await ctx.noise(noise);
    await combine(state, x, [
      [x, (sigmaNext / sigma) * Math.exp(-eta * h)],
      ...weights.map((w, k) => [outputs[k], w] as const),
      ...(up > 0 ? [[noise, up] as const] : []),
    ]);
    outputs = [outputs[2], outputs[0], outputs[1]];
    pastH.unshift(h);
    if (pastH.length > 2) pastH.pop();
  }
  return x;
};

/** Karras et al.'s ρ = 7 spacing from `high` down to `low` in `steps` steps, both ends kept. */
function restartLevels(high: number, low: number, steps: number): Float64Array {
  const a = high ** (1 / 7), b = low ** (1 / 7);
  return Float64Array.from({ length: steps + 1 }, (_, k) => (a + (k / steps) * (b - a)) ** 7);
}

/**
 * Restart sampling (Xu et al. 2023, "Restart sampling for improving generative processes",
 * Algorithm 1 with EDM's Heun as the ODE solver): Heun down the schedule to the first level
 * σ_j ≤ tMin (default 0.1); there, `restartTimes` times (default 2), add noise to climb back to
 * tMax (default 2), x ← x + S_noise·√(tMax² − σ_j²)·z, and solve the ODE down to σ_j again over
 * `restartSteps` Karras-spaced steps (default a quarter of the schedule's N, at least 2); then
 * finish the schedule. The large injections contract the errors that the ODE stretches
 * accumulate; the excursions' own discretisation error does not shrink with N unless
 * `restartSteps` grows with it, hence the default. onStep reports the main schedule only. NFE:
 * the Heun run's 2N − 1 plus 2·restartSteps per restart.
 */
export const restart: Sampler = async (ctx, x, sigmas, options) => {
  const { tMin, tMax, restartSteps, restartTimes, sNoise } = readOptions("restart", options, {
    tMin: numberOption(0.1, { min: 0, minExclusive: true }),
    tMax: numberOption(2, { min: 0, minExclusive: true }),
    restartSteps: numberOption(0, { min: 1, integer: true }), // 0: not given, scaled to N
    restartTimes: numberOption(2, { min: 0, integer: true }),
    sNoise: numberOption(1, { min: 0 }),
  });
  if (tMax <= tMin) {
    throw new RangeError(`Expected "tMax" to be above "tMin" (${tMin}) but found ${tMax}`);
  }
  const buffers = twoStageBuffers(ctx), noise = ctx.buffer(), steps = sigmas.length - 1;
  const excursion = restartSteps || Math.max(2, Math.round(steps / 4));
  const run = (levels: Float64Array, report: number | null) =>
    twoStageSteps(ctx, x, levels, HEUN, buffers, { churn: null, churnSteps: steps, report });
  const j = sigmas.findIndex((s) => s > 0 && s <= tMin);
  if (j <= 0 || restartTimes === 0) {
    await run(sigmas, 0);
    return x;
  }
  await run(sigmas.subarray(0, j + 1), 0);
  const levels = restartLevels(tMax, sigmas[j], excursion);
  for (let k = 0; k < restartTimes; k++) {
    await ctx.noise(noise);
    await ctx.state.axpby(x, noise, 1, sNoise * Math.sqrt(tMax * tMax - sigmas[j] * sigmas[j]));
    await run(levels, null);
  }
  await run(sigmas.subarray(j), j);
  return x;
};
