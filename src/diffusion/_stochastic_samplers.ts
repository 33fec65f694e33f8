/**
 * Samplers that add fresh noise at every step, in sigma space: ancestral Euler, DPM-Solver++
 * (2M) SDE, DDIM with η and DDPM's ancestral sampler.
 *
 * @module
 */
import { NONE } from "../backends/diffusion.ts";
import { ancestralSplit, numberOption, readOptions, type Sampler } from "./_sampler_kit.ts";

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
      state.ancestralStep(x, denoised, noise, sigma, sigmaDown, sigmaUp * sNoise);
    } else {
      state.eulerStep(x, denoised, sigma, sigmaDown);
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
      state.dpmppStep(x, denoised, previous, z, a, b, c, noiseScale);
    } else {
      state.dpmppStep(x, denoised, NONE, z, a, phi, 0, noiseScale);
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
    ctx.state.dpmppStep(x, denoised, NONE, z, c, 1 - c, 0, noiseScale);
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
    ctx.state.dpmppStep(
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
