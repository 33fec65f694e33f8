import { drawUniform } from "../_random.ts";
import { checkBackend, checkNumber, checkOptions, show, toMatrix, toVector } from "../_validate.ts";
import { jsDiffusionKernels, noiseKey } from "../backends/js/diffusion.ts";
import type { Backend, Matrix } from "../tensor.ts";
import { diffusionKernels } from "./_kernels.ts";
import { outputFor } from "./_network.ts";
import { liveView, markLendable } from "../runtime/_lent.ts";
import type {
  DiffusionWorkspace,
  Finite,
  MixtureArgs,
  MixtureTables,
} from "../backends/diffusion.ts";
import { markSlotDenoiser } from "./_run_context.ts";
import type { Denoiser, DenoiserInfo } from "./types.ts";

/** Options of {@link GaussianMixture}. */
export type GaussianMixtureOptions = {
  /** Component means, one row of `dim` values per component. */
  means: Matrix;
  /** Diagonal covariances, same shape as `means`, all > 0. */
  variances: Matrix;
  /** Mixture weights, ≥ 0 with a positive sum (normalised here). */
  weights: ArrayLike<number>;
  /** Kernel backend of the denoiser (default "auto"; "js" keeps it synchronous). */
  backend?: Backend;
};

/**
 * An analytic data distribution: a mixture of Gaussians with diagonal covariances. Noising it
 * by σ keeps it a mixture (each covariance grows by σ²I), so its denoiser and score are exact:
 * the oracle for testing samplers and a toy distribution for demos.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { GaussianMixture } from "./mod.ts";
 * const gmm = new GaussianMixture({ means: [[-2], [2]], variances: [[1], [1]], weights: [1, 1] });
 * // By symmetry the posterior mean at 0 is 0, and σ → ∞ pulls every point to the mean.
 * assert.equal(gmm.score(new Float32Array([0]), 1)[0], 0);
 * const far = await gmm.denoiser(new Float32Array([5]), 1e4, { batch: 1, dim: 1 });
 * assert.ok(Math.abs(far[0]) < 1e-3);
 * ```
 */
export class GaussianMixture {
  /** Values per sample. */
  readonly dim: number;
  /** Number of components. */
  readonly components: number;
  /** Means, component-major (components × dim). */
  readonly means: Float32Array;
  /** Diagonal variances, component-major (components × dim). */
  readonly variances: Float32Array;
  /** Normalised weights. */
  readonly weights: Float64Array;
  readonly #logWeights: Float32Array;
  readonly #backend: Backend | undefined;

  /**
   * @throws {TypeError | RangeError} On shapes that disagree, a variance ≤ 0, a negative
   *   weight or weights summing to 0.
   */
  constructor(opts: GaussianMixtureOptions) {
    if (opts === null || typeof opts !== "object") {
      throw new TypeError(`Expected "opts" to be an options object but found ${show(opts)}`);
    }
    checkOptions("opts", opts, ["means", "variances", "weights", "backend"]);
    const means = toMatrix("means", opts.means);
    const variances = toMatrix("variances", opts.variances);
    if (variances.rows !== means.rows || variances.cols !== means.cols) {
      throw new RangeError(
        `Expected "variances" to have the shape of "means" [${means.rows}, ${means.cols}] but found [${variances.rows}, ${variances.cols}]`,
      );
    }
    if (means.cols === 0) {
      throw new RangeError(`Expected "means" to have at least one column but found 0`);
    }
    for (let i = 0; i < means.data.length; i++) {
      if (!Number.isFinite(means.data[i])) {
        throw new RangeError(
          `Expected "means" to hold finite numbers but entry ${i} is ${means.data[i]}`,
        );
      }
      const v = variances.data[i];
      if (!(v > 0) || !Number.isFinite(v)) {
        throw new RangeError(
          `Expected "variances" to hold finite numbers > 0 but entry ${i} is ${v}`,
        );
      }
    }
    const weights = toVector("weights", opts.weights, means.rows);
    let total = 0;
    for (let k = 0; k < weights.length; k++) {
      if (weights[k] < 0) {
        throw new RangeError(`Expected "weights" to be >= 0 but entry ${k} is ${weights[k]}`);
      }
      total += weights[k];
    }
    if (!(total > 0)) {
      throw new RangeError(`Expected "weights" to have a positive sum but found ${total}`);
    }
    checkBackend("backend", opts.backend);
    this.#backend = opts.backend;
    this.dim = means.cols;
    this.components = means.rows;
    this.means = Float32Array.from(means.data);
    this.variances = Float32Array.from(variances.data);
    this.weights = weights.map((w) => w / total);
    this.#logWeights = Float32Array.from(this.weights, Math.log);
    markLendable(this.denoiser);
    // On the reference kernels (synchronous) it is always called as a function.
    if (this.#backend !== "js") {
      markSlotDenoiser(this.denoiser, {
        rowWork: this.dim * this.components * 4,
        run: (state, x, sigma, out) => this.#onSlots(state, x, sigma, out),
      });
    }
  }

  /**
   * The exact denoiser D(x; σ) = E[x₀ | x] of the mixture, for {@link sample}. Writes into
   * `info.out` when it is given (a sampler's own buffer: no allocation, no copy), else into a
   * fresh array.
   *
   * @throws {RangeError} When `info.dim` differs from the mixture's, `x` is not batch × dim or
   *   `info.out` is not a Float32Array of the same length.
   */
  readonly denoiser: Denoiser = (x: Float32Array, sigma: number, info: DenoiserInfo) => {
    const batch = this.#checkBatch(x, info);
    const out = outputFor(info, x.length);
    const args = this.#mixtureArgs("denoised", out, x, batch, sigma);
    if (this.#backend === "js") {
      jsDiffusionKernels.mixture(args);
      return out;
    }
    return this.#denoise(args);
  };

  /**
   * The denoiser on the selected kernels (a sampler calls it at every step: no closures). A
   * sampler may lend it views of unshared WASM memory (it is marked lendable in the
   * constructor), which any call that grows the memory while this one awaits detaches: they are
   * renewed after each await (liveView), and a kernel takes their places before it allocates.
   */
  async #denoise(args: MixtureArgs): Promise<Float32Array> {
    const flops = args.x.length * this.components * 4;
    const kernels = await diffusionKernels(this.#backend, { flops });
    const run = { ...args, x: liveView(args.x), out: liveView(args.out) };
    await kernels.mixture(run);
    return liveView(run.out);
  }

  /**
   * The denoiser on a sampler's own buffers x → out, where its workspace runs the mixture itself
   * on the kernels this mixture selects (see SlotDenoiser); null where it does not.
   */
  async #onSlots(
    state: DiffusionWorkspace,
    x: number,
    sigma: number,
    out: number,
  ): Promise<Finite | null> {
    if (state.mixture === undefined) return null;
    const flops = state.size * this.components * 4;
    const kernels = await diffusionKernels(this.#backend, { flops });
    return state.mixture(kernels, out, x, this.#tables("denoised", sigma));
  }

  /**
   * The score ∇ₓ log p(x; σ) of the mixture noised by σ (σ = 0: the data's own score).
   * Synchronous, so it always runs on the reference kernels.
   *
   * @param x Rows of `dim` values.
   * @param sigma Noise level ≥ 0.
   * @returns The score, same shape as `x`.
   * @throws {TypeError | RangeError} When `x` is not a Float32Array of whole rows or σ < 0.
   */
  score(x: Float32Array, sigma: number): Float32Array {
    const batch = this.#checkBatch(x, undefined);
    checkNumber("sigma", sigma, { min: 0 });
    const out = new Float32Array(x.length);
    jsDiffusionKernels.mixture(this.#mixtureArgs("score", out, x, batch, sigma));
    return out;
  }

  #mixtureArgs(
    output: MixtureArgs["output"],
    out: Float32Array,
    x: Float32Array,
    batch: number,
    sigma: number,
  ): MixtureArgs {
    return { ...this.#tables(output, sigma), out, x, batch };
  }

  #tables(output: MixtureTables["output"], sigma: number): MixtureTables {
    const { dim, means, variances, components } = this;
    return { output, dim, sigma, means, variances, components, logWeights: this.#logWeights };
  }

  /**
   * Exact samples: component k with probability w_k, then μ_k + √Σ_k·z. Sample i depends only
   * on (seed, i).
   *
   * @param n Number of samples.
   * @param seed Integer seed in [0, 2³²) (default 0).
   * @returns n × dim values, sample-major.
   * @throws {TypeError | RangeError} On a bad count or seed.
   */
  sample(n: number, seed = 0): Float32Array {
    checkNumber("n", n, { min: 0, integer: true });
    checkNumber("seed", seed, { min: 0, max: 0xffffffff, integer: true });
    const dim = this.dim, out = new Float32Array(n * dim);
    jsDiffusionKernels.fillGaussian(out, n, dim, seed, 0, 0); // the stream is the same in every backend
    for (let i = 0; i < n; i++) {
      const u = drawUniform(noiseKey(seed, i, 1), 0);
      let k = 0, acc = this.weights[0];
      while (k < this.components - 1 && u >= acc) acc += this.weights[++k];
      for (let j = 0; j < dim; j++) {
        const at = k * dim + j;
        out[i * dim + j] = this.means[at] + Math.sqrt(this.variances[at]) * out[i * dim + j];
      }
    }
    return out;
  }

  #checkBatch(x: Float32Array, info: DenoiserInfo | undefined): number {
    if (!(x instanceof Float32Array)) {
      throw new TypeError(`Expected "x" to be a Float32Array but found ${show(x)}`);
    }
    if (info !== undefined && info.dim !== this.dim) {
      throw new RangeError(
        `Expected "info.dim" to be the mixture's dim ${this.dim} but found ${info.dim}`,
      );
    }
    if (x.length % this.dim !== 0) {
      throw new RangeError(
        `Expected "x" to hold whole rows of ${this.dim} values but found ${x.length}`,
      );
    }
    const batch = x.length / this.dim;
    if (info !== undefined && info.batch !== batch) {
      throw new RangeError(
        `Expected "x" to hold info.batch × dim = ${
          info.batch * this.dim
        } values but found ${x.length}`,
      );
    }
    return batch;
  }
}
