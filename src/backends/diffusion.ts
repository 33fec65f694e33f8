/**
 * The `diffusion` kernel family: the loops that dominate a sampling run. Sampler orchestration
 * (schedules, step coefficients, bookkeeping) stays in `src/diffusion/`; only flat,
 * allocation-free operations are handed to a backend.
 *
 * A sampling run keeps its state in a {@link DiffusionWorkspace}: buffers that live in the
 * backend's own memory for the whole run (WASM linear memory for the WASM backend), addressed by
 * slot number. A step touches no host memory; only the denoiser's input and output cross over,
 * once each per evaluation. Conventions:
 *
 * ```
 *  state buffers   batch-major rows of f32: x[row * dim + j], size = batch * dim
 *  mixture params  means[k * dim + j], variances[k * dim + j], logWeights[k] (normalised)
 *  scalars         step coefficients are computed by the caller in float64 and passed in
 *  noise           counter-based: row r of a call with firstSample f is sample f + r; its
 *                  draw d uses the key noiseKey(seed, f + r, d) and counters 0, 1, 2, ...
 * ```
 *
 * Step methods mutate their first buffer in place (or write `into`); each returns whether every
 * value it wrote is finite, which also vouches for every buffer it read (a NaN or ±∞ input
 * reaches the output), so the sampler needs no separate pass over the denoiser's output. Steps,
 * the Gaussian fill and the mixture kernels may be dealt to workers by rows, so they may return
 * a promise: callers `await` each before they touch the workspace again.
 *
 * @module
 */

/** What a step method returns: whether every value it wrote is finite, now or once it is done. */
export type Finite = boolean | Promise<boolean>;

/**
 * The state of one sampling run: `batch × dim` buffers in the backend's memory, addressed by
 * slot. Every slot argument names a buffer of this workspace; `NONE` (−1) stands for an absent
 * optional buffer. Nothing is valid after {@link release}.
 */
export interface DiffusionWorkspace {
  readonly batch: number;
  readonly dim: number;
  /** batch × dim. */
  readonly size: number;

  /** Adds a buffer (contents undefined) and returns its slot. */
  buffer(): number;

  /**
   * A host array that aliases buffer `slot` for the workspace's lifetime, or null where the
   * backend cannot give one that stays valid (then use {@link read}). Writes through it are
   * writes to the buffer.
   */
  view(slot: number): Float32Array | null;

  /**
   * Where {@link view} is null because the memory is not shared: a view of buffer `slot` that
   * goes dead when the memory next grows, for code marked lendable only (src/runtime/_lent.ts),
   * which renews it with `liveView` after each await. Null where there is none.
   */
  lend?(slot: number): Float32Array | null;

  /**
   * Whether workers hold rows of this workspace in their own memory between calls (the WASM
   * backend's resident lanes). A call on the buffers may then resolve before the workers' rows
   * are checked: a value there that is not finite fails the next call, or {@link gather}, with
   * the error it would have had. Absent: false.
   */
  readonly resident?: boolean;

  /**
   * Brings back the rows of buffer `slot` that workers hold in their own memory (the WASM
   * backend's resident lanes, on memory that is not shared), so that {@link read},
   * {@link firstNonFinite} and {@link lend} see every row, and throws what a call's late check
   * found (see {@link resident}); resolves at once where nothing is held elsewhere. Await it
   * before any of those on a buffer a step or the denoiser wrote.
   */
  gather(slot: number): Promise<void>;

  /** Copies buffer `slot` into `out[0 .. size)`. */
  read(slot: number, out: Float32Array): void;

  /** Copies `data[0 .. size)` into buffer `slot` (nothing to copy when `data` is its view). */
  write(slot: number, data: Float32Array): void;

  /** The index of the first value of buffer `slot` that is not finite, or −1. */
  firstNonFinite(slot: number): number;

  /** `dst ← src`. */
  copy(dst: number, src: number): void;

  /**
   * First-order step in sigma space: `into ← D + (sigmaNext / sigma)(x − D)`, in place unless
   * `into` names another buffer (then `x` is left as it was).
   */
  eulerStep(x: number, denoised: number, sigma: number, sigmaNext: number, into?: number): Finite;

  /**
   * Heun's correction (EDM Algorithm 1, line 8):
   * `x ← x + (sigmaNext − sigma) · ½[(x − D)/sigma + (xNext − DNext)/sigmaNext]`.
   */
  heunStep(
    x: number,
    denoised: number,
    xNext: number,
    denoisedNext: number,
    sigma: number,
    sigmaNext: number,
  ): Finite;

  /** A step along a derivative evaluated elsewhere: `x ← x + h · (xEval − DEval) / sigmaEval`. */
  derivativeStep(
    x: number,
    xEval: number,
    denoisedEval: number,
    sigmaEval: number,
    h: number,
  ): Finite;

  /** Ancestral step: `x ← D + (sigmaDown / sigma)(x − D) + sigmaUp · noise`. */
  ancestralStep(
    x: number,
    denoised: number,
    noise: number,
    sigma: number,
    sigmaDown: number,
    sigmaUp: number,
  ): Finite;

  /**
   * The DPM-Solver++ form, also used by DDIM, DDPM and Langevin updates:
   * `x ← a·x + b·D + c·DPrev + d·noise`. `denoisedPrev` (or `noise`) may be `NONE`, and is then
   * ignored together with its coefficient.
   */
  dpmppStep(
    x: number,
    denoised: number,
    denoisedPrev: number,
    noise: number,
    a: number,
    b: number,
    c: number,
    d: number,
  ): Finite;

  /** `y ← a·y + b·x` (y and x may be the same buffer). */
  axpby(y: number, x: number, a: number, b: number): Finite;

  /**
   * Masked replacement (inpainting): `x ← (1 − m)·x + m·y`, which is exactly `y` where the mask
   * is 1 and `x` where it is 0.
   */
  blend(x: number, y: number, mask: number): Finite;

  /**
   * Fills buffer `slot` with standard normals: row r holds draw `draw` of sample
   * `firstSample + r` of `seed`, bit-identical to {@link DiffusionKernels.fillGaussian}.
   */
  fillGaussian(slot: number, seed: number, firstSample: number, draw: number): void | Promise<void>;

  /**
   * `out ← ` the mixture of `tables` at buffer `x` (see {@link MixtureArgs}), run by the workspace
   * itself on its buffers where it keeps rows with the workers and `family` is the kernels it
   * belongs to; null where it does not (then the denoiser is called as any other). Checks its
   * output: it says whether every value written is finite, as a step does.
   */
  mixture?(family: DiffusionKernels, out: number, x: number, tables: MixtureTables): Finite | null;

  /**
   * Frees every buffer. Idempotent. Where workers still run calls on them (a run that failed
   * before its last calls were awaited), frees them once they are done, and returns a promise
   * of that.
   */
  release(): void | Promise<void>;
}

/** What a run may tell {@link DiffusionKernels.workspace} about the calls it will make. */
export interface WorkspaceOptions {
  /**
   * Work per row of a denoiser call the workspace can run itself ({@link
   * DiffusionWorkspace.mixture}: components × dim × 4), where nothing else needs the whole state
   * on the host between steps; absent or 0 where it cannot. The WASM backend on memory that is
   * not shared then keeps each worker's rows in that worker's memory for the whole run, when
   * the work is large enough to split.
   */
  residentRowWork?: number;
}

/**
 * The error of a denoiser output holding `value`, not finite, at `index` (its first such), at
 * noise level `sigma`: the same words wherever the output is checked.
 */
export function nonFiniteOutput(value: number, index: number, sigma: number): RangeError {
  return new RangeError(
    `Expected "denoiser" to return finite values but found ${value} at index ${index} (sigma ${sigma})`,
  );
}

/** The error of a step that overflowed float32 from finite inputs. */
export function stateOverflow(): RangeError {
  return new RangeError(
    `Expected the sampler's state to stay finite but a step on finite denoiser outputs overflowed float32; check the scale of "denoiser" and of "sigmas"`,
  );
}

/** The slot argument that stands for "no buffer". */
export const NONE = -1;

/**
 * A diagonal Gaussian mixture noised by σ, evaluated at `batch` rows of `dim` values. With
 * responsibilities `r_k ∝ w_k N(x; μ_k, Σ_k + σ²I)` (by log-sum-exp):
 *
 * ```
 *  "denoised"  D(x; σ) = Σ_k r_k(x) [μ_k + Σ_k (Σ_k + σ²)⁻¹ (x − μ_k)]      (the exact denoiser)
 *  "score"     ∇ log p(x; σ) = Σ_k r_k(x) (μ_k − x) / (Σ_k + σ²)
 * ```
 */
export interface MixtureArgs extends MixtureTables {
  /** batch × dim results. */
  out: Float32Array;
  /** batch × dim rows. */
  x: Float32Array;
  batch: number;
}

/** A mixture and σ: what {@link MixtureArgs} says beyond the rows it is evaluated at. */
export interface MixtureTables {
  output: "denoised" | "score";
  dim: number;
  sigma: number;
  /** components × dim. */
  means: Float32Array;
  /** components × dim, diagonal covariances. */
  variances: Float32Array;
  /** Normalised log weights, one per component. */
  logWeights: Float32Array;
  components: number;
}

/** The kernels of the diffusion family. Every backend implements all of them. */
export interface DiffusionKernels {
  /** The backend's name. */
  readonly name: "js" | "wasm" | "webgpu";

  /** Opens a workspace of `batch × dim` buffers; the caller releases it in a `finally`. */
  workspace(batch: number, dim: number, options?: WorkspaceOptions): DiffusionWorkspace;

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
   * The exact denoiser or the score of a diagonal Gaussian mixture noised by σ (see
   * {@link MixtureArgs}), written to `args.out`.
   */
  mixture(args: MixtureArgs): void | Promise<void>;
}
