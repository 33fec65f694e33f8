/**
 * The context one `sample()` run hands to its sampler: denoiser calls with output checks and
 * the NFE count, counter-based noise draws, and step reports.
 *
 * @module
 */
import { show } from "../_validate.ts";
import type { DiffusionKernels } from "../backends/diffusion.ts";
import type { SamplerContext } from "./_sampler_kit.ts";
import type { Denoiser, DenoiserInfo, NoiseFunction, StepInfo } from "./types.ts";

export type RunSettings = {
  denoiser: Denoiser;
  batch: number;
  dim: number;
  kernels: DiffusionKernels;
  seed: number;
  firstSample: number;
  noise?: NoiseFunction;
  onStep?: (step: StepInfo) => void;
};

export class RunContext implements SamplerContext {
  readonly batch: number;
  readonly dim: number;
  readonly size: number;
  readonly kernels: DiffusionKernels;
  #nfe = 0;
  /** Draw 0 is the initial state, used or not, so a run from `xT` continues the seeded run. */
  #draw = 1;
  readonly #settings: RunSettings;
  readonly #info: DenoiserInfo;

  constructor(settings: RunSettings) {
    this.#settings = settings;
    this.batch = settings.batch;
    this.dim = settings.dim;
    this.size = settings.batch * settings.dim;
    this.kernels = settings.kernels;
    this.#info = Object.freeze({ batch: settings.batch, dim: settings.dim });
  }

  get nfe(): number {
    return this.#nfe;
  }

  async denoise(x: Float32Array, sigma: number, out: Float32Array): Promise<Float32Array> {
    const result: unknown = await this.#settings.denoiser(x, sigma, this.#info);
    this.#nfe++;
    if (!(result instanceof Float32Array)) {
      throw new TypeError(`Expected "denoiser" to return a Float32Array but found ${show(result)}`);
    }
    if (result.length !== this.size) {
      throw new RangeError(
        `Expected "denoiser" to return ${this.size} values (batch ${this.batch} × dim ${this.dim}) but found ${result.length}`,
      );
    }
    for (let i = 0; i < result.length; i++) {
      const v = result[i];
      if (!(v - v === 0)) {
        throw new RangeError(
          `Expected "denoiser" to return finite values but found ${v} at index ${i} (sigma ${sigma})`,
        );
      }
      out[i] = v;
    }
    return out;
  }

  /** Fills `out` with initial noise (draw 0). */
  initialNoise(out: Float32Array): Promise<Float32Array> {
    return this.#fill(out, 0);
  }

  noise(out: Float32Array): Promise<Float32Array> {
    return this.#fill(out, this.#draw++);
  }

  async #fill(out: Float32Array, draw: number): Promise<Float32Array> {
    const { noise, seed, firstSample, batch, dim } = this.#settings;
    if (noise) noise(out, { batch, dim, firstSample, draw });
    else await this.kernels.fillGaussian(out, batch, dim, seed, firstSample, draw);
    return out;
  }

  report(
    step: number,
    sigma: number,
    sigmaHat: number,
    x: Float32Array,
    denoised: Float32Array,
  ): void {
    this.#settings.onStep?.({ step, sigma, sigmaHat, x, denoised, nfe: this.#nfe });
  }

  alloc(): Float32Array {
    return new Float32Array(this.size);
  }
}
