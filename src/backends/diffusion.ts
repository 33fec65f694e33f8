/**
 * The `diffusion` kernel family: the loops that dominate a sampling run. Sampler orchestration
 * (schedules, step coefficients, bookkeeping) stays in `src/diffusion/`; only these flat,
 * allocation-free operations are handed to a backend, so a WASM implementation with the same
 * signatures drops in.
 *
 * Conventions shared by every method:
 *
 * ```
 *  state buffers   Float32Array, batch-major rows: x[row * dim + j], n = batch * dim
 *  mixture params  means[k * dim + j], variances[k * dim + j], logWeights[k] (normalised)
 *  scalars         step coefficients are computed by the caller in float64 and passed in
 *  noise           counter-based: row r of a call with firstSample f is sample f + r; its
 *                  draw d uses the key noiseKey(seed, f + r, d) and counters 0, 1, 2, ...
 * ```
 *
 * Methods mutate their first argument in place. The reference runs synchronously; other
 * backends may return a promise, so callers always `await` (a WASM backend copies buffers in and
 * out, so none keeps a reference to a buffer after it settles).
 *
 * @module
 */

/** The kernels of the diffusion family. Every backend implements all of them. */
export interface DiffusionKernels {
  /** The backend's name. */
  readonly name: "js" | "wasm" | "webgpu";

  /** First-order step in sigma space: `x ← D + (sigmaNext / sigma)(x − D)`. */
  eulerStep(
    x: Float32Array,
    denoised: Float32Array,
    n: number,
    sigma: number,
    sigmaNext: number,
  ): void | Promise<void>;

  /**
   * Heun's correction (EDM Algorithm 1, line 8):
   * `x ← x + (sigmaNext − sigma) · ½[(x − D)/sigma + (xNext − DNext)/sigmaNext]`.
   */
  heunStep(
    x: Float32Array,
    denoised: Float32Array,
    xNext: Float32Array,
    denoisedNext: Float32Array,
    n: number,
    sigma: number,
    sigmaNext: number,
  ): void | Promise<void>;

  /** A step along a derivative evaluated elsewhere: `x ← x + h · (xEval − DEval) / sigmaEval`. */
  derivativeStep(
    x: Float32Array,
    xEval: Float32Array,
    denoisedEval: Float32Array,
    n: number,
    sigmaEval: number,
    h: number,
  ): void | Promise<void>;

  /** Ancestral step: `x ← D + (sigmaDown / sigma)(x − D) + sigmaUp · noise`. */
  ancestralStep(
    x: Float32Array,
    denoised: Float32Array,
    noise: Float32Array,
    n: number,
    sigma: number,
    sigmaDown: number,
    sigmaUp: number,
  ): void | Promise<void>;

  /**
   * The DPM-Solver++ form, also used by DDIM, DDPM and Langevin updates:
   * `x ← a·x + b·D + c·DPrev + d·noise`. `denoisedPrev` (or `noise`) may be null, and is then
   * ignored together with its coefficient.
   */
  dpmppStep(
    x: Float32Array,
    denoised: Float32Array,
    denoisedPrev: Float32Array | null,
    noise: Float32Array | null,
    n: number,
    a: number,
    b: number,
    c: number,
    d: number,
  ): void | Promise<void>;

  /** `y ← a·y + b·x`. */
  axpby(y: Float32Array, x: Float32Array, n: number, a: number, b: number): void | Promise<void>;

  /**
   * One Langevin corrector update per row (Song et al. 2021, Algorithm 5) with a per-row step
   * `eps = 2·alpha·(snr·‖noise_r‖ / ‖score_r‖)²`: `x_r ← x_r + eps·score_r + √(2·eps)·noise_r`.
   * A row whose score is zero is left unchanged.
   */
  langevinStep(
    x: Float32Array,
    score: Float32Array,
    noise: Float32Array,
    batch: number,
    dim: number,
    snr: number,
    alpha: number,
  ): void | Promise<void>;

  /**
   * Fills `out[0 .. batch*dim)` with standard normals: row r holds draw `draw` of sample
   * `firstSample + r` of `seed`. Bit-identical in every backend.
   */
  fillGaussian(
    out: Float32Array,
    batch: number,
    dim: number,
    seed: number,
    firstSample: number,
    draw: number,
  ): void | Promise<void>;

  /**
   * The exact denoiser of a diagonal Gaussian mixture:
   * `D(x; σ) = Σ_k r_k(x) [μ_k + Σ_k (Σ_k + σ²)⁻¹ (x − μ_k)]`, with responsibilities
   * `r_k ∝ w_k N(x; μ_k, Σ_k + σ²I)` computed by log-sum-exp.
   */
  gmmDenoise(
    out: Float32Array,
    x: Float32Array,
    batch: number,
    dim: number,
    sigma: number,
    means: Float32Array,
    variances: Float32Array,
    logWeights: Float32Array,
    components: number,
  ): void | Promise<void>;

  /** The score of the noised mixture: `∇ log p(x; σ) = Σ_k r_k(x) (μ_k − x) / (Σ_k + σ²)`. */
  gmmScore(
    out: Float32Array,
    x: Float32Array,
    batch: number,
    dim: number,
    sigma: number,
    means: Float32Array,
    variances: Float32Array,
    logWeights: Float32Array,
    components: number,
  ): void | Promise<void>;
}
