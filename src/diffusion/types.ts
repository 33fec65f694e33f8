/**
 * Public types of the diffusion area. Everything works in the sigma space of Karras et al.
 * (2022, "EDM"): a state `x` at noise level σ is a clean sample plus N(0, σ²I) noise, and a
 * denoiser estimates `D(x; σ) ≈ E[x₀ | x]`.
 *
 * @module
 */

/**
 * What a denoiser is told besides `x` and σ: the shape of the batch (`batch` rows of `dim`
 * values, row-major) and, from {@link sample}, where the result is wanted.
 */
export type DenoiserInfo = {
  batch: number;
  dim: number;
  /**
   * `batch × dim` values the denoiser may write its result into and return, saving the sampler
   * a copy (like PyTorch's `out=`) or at least a fresh array. Lent for the call only, like `x`:
   * the sampler's own buffer where its backend can lend it, else a host array the sampler keeps
   * for the run (then, or when another array is returned, the result is copied). Absent where
   * the caller has none (a denoiser called directly).
   */
  out?: Float32Array;
  /**
   * Set by {@link classifierFreeGuidance}'s batched form: rows at or after this index are to be
   * evaluated without the condition (the null class), rows before it with it. Absent: no such
   * split was asked for.
   */
  unconditionalFrom?: number;
};

/**
 * A denoiser `D(x; σ) ≈ E[x₀ | x]` on batch-major rows. It may be synchronous or return a
 * promise. `x` is lent for the call only: the denoiser must not modify it, keep it, or transfer
 * its buffer (it may be a view of the sampler's WASM memory, shared with the worker pool); copy
 * it where it must outlive the call. It may return `info.out` filled in, or any array of the
 * right length, which the sampler then copies (so one output array may be reused across calls).
 */
export type Denoiser = (
  x: Float32Array,
  sigma: number,
  info: DenoiserInfo,
) => Float32Array | Promise<Float32Array>;

/**
 * A raw network `F(c_in·x; c_noise)` before preconditioning, or a model in some other
 * parameterisation (ε, v, score, velocity) before adaptation. The second argument is the
 * network's own conditioning input (c_noise, a timestep or a flow time). `info.out`, when
 * present, is where the wrapping denoiser will put its result; the network may return its own
 * output there (the denoiser then combines in place) or any array of the right length.
 */
export type Network = (
  x: Float32Array,
  conditioning: number,
  info: DenoiserInfo,
) => Float32Array | Promise<Float32Array>;

/** What every sampler reports after each denoiser evaluation of a step. */
export type StepInfo = {
  /** Index of the step in `sigmas`. */
  step: number;
  /** `sigmas[step]`. */
  sigma: number;
  /** The noise level actually evaluated (above `sigma` when churn added noise). */
  sigmaHat: number;
  /** The state handed to the denoiser; valid only during the callback. */
  x: Float32Array;
  /** The denoiser's output for `x`; valid only during the callback. */
  denoised: Float32Array;
  /** Denoiser calls so far, this one included. */
  nfe: number;
};

/** Where a noise function is asked for: row r is sample `firstSample + r`. */
export type NoiseInfo = { batch: number; dim: number; firstSample: number; draw: number };

/** Fills `out` (batch × dim) with standard normal noise for the given draw. */
export type NoiseFunction = (out: Float32Array, info: NoiseInfo) => void;

/** EDM's stochastic churn (Karras et al. 2022, Algorithm 2). */
export type ChurnOptions = {
  /** Total churn S_churn; the per-step γ is min(S_churn / N, √2 − 1). */
  sChurn: number;
  /** Churn only where σ ≥ sTmin (default 0). */
  sTmin?: number;
  /** Churn only where σ ≤ sTmax (default Infinity). */
  sTmax?: number;
  /** Scale of the added noise S_noise (default 1). */
  sNoise?: number;
};

/**
 * A diffusion process in EDM form (Karras et al. 2022, Table 1 and eq. 4):
 * `x(t) = s(t)·(x₀ + σ(t)·ε)`. Its probability-flow ODE is
 * `dx/dt = (σ'/σ + s'/s)·x − (σ'·s/σ)·D(x/s; σ)` and its SDE has drift `f(t) = s'/s` and
 * diffusion `g(t) = s·√(2σσ')`.
 */
export interface Parameterisation {
  readonly name: string;
  /** σ(t). */
  sigma(t: number): number;
  /** dσ/dt. */
  sigmaDeriv(t: number): number;
  /** The time at which σ(t) = sigma. */
  sigmaInv(sigma: number): number;
  /** s(t). */
  scale(t: number): number;
  /** ds/dt. */
  scaleDeriv(t: number): number;
}

/** Preconditioning `D(x; σ) = c_skip(σ)·x + c_out(σ)·F(c_in(σ)·x; c_noise(σ))` (EDM Table 1). */
export interface Preconditioning {
  readonly name: string;
  cSkip(sigma: number): number;
  cOut(sigma: number): number;
  cIn(sigma: number): number;
  cNoise(sigma: number): number;
}
