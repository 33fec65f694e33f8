/**
 * Exact accuracy measures of samplers on Gaussian-mixture oracles, shared by the solver tests
 * and the accuracy table of bench/diffusion_bench.ts:
 *
 * - `gaussianLawError`: on one Gaussian N(μ, s²) every sampler is affine in its start x_T and
 *   its noise draws z₁, z₂, … (the exact denoiser is affine in x), so the law of its output is
 *   Gaussian, and its mean and variance follow from a few rows run with unit inputs (row 0: all
 *   zero; row 1: x_T = one standard deviation of x_T; row 1 + d: draw d = 1, the rest 0). The
 *   2-Wasserstein distance between that law and N(μ, s²) is then the sampler's error in
 *   distribution, with no Monte Carlo noise: for ODE and SDE samplers alike.
 * - `mixturePathError`: on a multi-component mixture the probability-flow ODE has no closed
 *   form; the error of a deterministic sampler is its RMS distance from a converged reference
 *   solution from the same x_T.
 *
 * @module
 */
import {
  GaussianMixture,
  karrasSigmas,
  sample,
  type SamplerName,
} from "../../src/diffusion/mod.ts";

export const GAUSSIAN = { mean: 0.3, sd: 0.5 };
const gaussian = new GaussianMixture({
  means: [[GAUSSIAN.mean]],
  variances: [[GAUSSIAN.sd ** 2]],
  weights: [1],
  backend: "js",
});

/** How many noise draws a run may make at most (rows of the linear-response batch). */
const MAX_DRAWS = 600;

/** The Gaussian law of a sampler's output on N(μ, s²) from x_T ~ N(μ, s² + σ₀²). */
export async function gaussianLaw(
  sampler: SamplerName,
  sigmas: Float64Array,
  samplerOptions: Record<string, unknown> = {},
): Promise<{ mean: number; sd: number; nfe: number; draws: number }> {
  const batch = MAX_DRAWS + 2, sdT = Math.hypot(GAUSSIAN.sd, sigmas[0]);
  const xT = new Float32Array(batch);
  xT[1] = sdT;
  let draws = 0, nfe = 0;
  const out = await sample({
    denoiser: (x, s, i) => (nfe++, gaussian.denoiser(x, s, i)),
    batch,
    dim: 1,
    sigmas,
    sampler,
    samplerOptions,
    xT,
    backend: "js",
    noise: (z, { draw }) => {
      draws = Math.max(draws, draw);
      if (draw > MAX_DRAWS) throw new RangeError(`more than ${MAX_DRAWS} noise draws`);
      z.fill(0);
      z[1 + draw] = 1;
    },
  });
  const c = out[0], scaled = out[1] - c;
  let variance = scaled * scaled;
  for (let d = 1; d <= draws; d++) variance += (out[1 + d] - c) ** 2;
  // E[x_T] = μ: the mean is the response to x_T = μ, i.e. c + μ·(response per unit).
  return { mean: c + GAUSSIAN.mean * (scaled / sdT), sd: Math.sqrt(variance), nfe, draws };
}

/** W₂ between the sampler's output law and N(μ, s²) on the Gaussian oracle. */
export async function gaussianLawError(
  sampler: SamplerName,
  sigmas: Float64Array,
  samplerOptions: Record<string, unknown> = {},
): Promise<{ error: number; nfe: number }> {
  const law = await gaussianLaw(sampler, sigmas, samplerOptions);
  const error = Math.hypot(law.mean - GAUSSIAN.mean, law.sd - GAUSSIAN.sd);
  return { error, nfe: law.nfe };
}

/** A 2-D mixture of 4 components with unequal spreads and weights. */
export const MIXTURE = new GaussianMixture({
  means: [[-2, 1], [1.5, 2], [2, -1.5], [-0.5, -2]],
  variances: [[0.3, 0.1], [0.05, 0.4], [0.2, 0.2], [0.5, 0.05]],
  weights: [0.2, 0.3, 0.35, 0.15],
  backend: "js",
});

const PATH_ROWS = 64, SIGMA_MAX = 80;

/** x_T for the path errors: PATH_ROWS points of N(0, σ_max²) (fixed). */
function pathStart(): Float32Array {
  const unit = new GaussianMixture({ means: [[0, 0]], variances: [[1, 1]], weights: [1] });
  return unit.sample(PATH_ROWS, 7).map((z) => z * SIGMA_MAX);
}

let reference: Promise<Float32Array> | null = null;

/** The probability-flow ODE solved to convergence (UniPC-3 over 2048 Karras steps). */
function referencePath(): Promise<Float32Array> {
  return reference ??= sample({
    denoiser: MIXTURE.denoiser,
    batch: PATH_ROWS,
    dim: 2,
    sigmas: karrasSigmas({ steps: 2048, sigmaMax: SIGMA_MAX }),
    sampler: "unipc",
    samplerOptions: { order: 3 },
    xT: pathStart(),
    backend: "js",
  });
}

/** RMS distance from the reference solution, on the mixture, of a deterministic sampler. */
export async function mixturePathError(
  sampler: SamplerName,
  steps: number,
  samplerOptions: Record<string, unknown> = {},
): Promise<{ error: number; nfe: number }> {
  let nfe = 0;
  const out = await sample({
    denoiser: (x, s, i) => (nfe++, MIXTURE.denoiser(x, s, i)),
    batch: PATH_ROWS,
    dim: 2,
    sigmas: karrasSigmas({ steps, sigmaMax: SIGMA_MAX }),
    sampler,
    samplerOptions,
    xT: pathStart(),
    backend: "js",
  });
  const exact = await referencePath();
  let sum = 0;
  for (let i = 0; i < out.length; i++) sum += (out[i] - exact[i]) ** 2;
  return { error: Math.sqrt(sum / PATH_ROWS), nfe };
}

/** Least-squares slope of log(error) against log(1/NFE): the measured order. */
export function fittedOrder(nfes: number[], errors: number[]): number {
  const xs = nfes.map((n) => Math.log(1 / n)), ys = errors.map(Math.log);
  const mx = xs.reduce((a, b) => a + b) / xs.length, my = ys.reduce((a, b) => a + b) / ys.length;
  let num = 0, den = 0;
  for (let i = 0; i < xs.length; i++) {
    num += (xs[i] - mx) * (ys[i] - my);
    den += (xs[i] - mx) ** 2;
  }
  return num / den;
}
