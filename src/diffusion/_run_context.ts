/**
 * The context one `sample()` run hands to its sampler: denoiser calls with output checks and
 * the NFE count, counter-based noise draws, and step reports.
 *
 * @module
 */
import { show } from "../_validate.ts";
import type { DiffusionWorkspace } from "../backends/diffusion.ts";
import type { SamplerContext } from "./_sampler_kit.ts";
import type { Denoiser, DenoiserInfo, NoiseFunction, StepInfo } from "./types.ts";

export type RunSettings = {
  denoiser: Denoiser;
  state: DiffusionWorkspace;
  seed: number;
  firstSample: number;
  noise?: NoiseFunction;
  onStep?: (step: StepInfo) => void;
};

export class RunContext implements SamplerContext {
  readonly batch: number;
  readonly dim: number;
  readonly size: number;
  readonly state: DiffusionWorkspace;
  #nfe = 0;
  /** Draw 0 is the initial state, used or not, so a run from `xT` continues the seeded run. */
  #draw = 1;
  readonly #settings: RunSettings;
  readonly #info: DenoiserInfo;
  /** Where the denoiser's input is copied when the workspace has no host view of it. */
  #hostInput: Float32Array | null = null;
  #hostNoise: Float32Array | null = null;
  /** The latest denoiser call's input and output, for `report`. */
  #lastInput: Float32Array | null = null;
  #lastOutput: Float32Array | null = null;

  constructor(settings: RunSettings) {
    this.#settings = settings;
    this.state = settings.state;
    this.batch = settings.state.batch;
    this.dim = settings.state.dim;
    this.size = settings.state.size;
    this.#info = Object.freeze({ batch: this.batch, dim: this.dim });
  }

  get nfe(): number {
    return this.#nfe;
  }

  async denoise(x: number, sigma: number, out: number): Promise<void> {
    let input = this.state.view(x);
    if (input === null) {
      input = this.#hostInput ??= new Float32Array(this.size);
      this.state.read(x, input);
    }
    const result: unknown = await this.#settings.denoiser(input, sigma, this.#info);
    this.#nfe++;
    if (!(result instanceof Float32Array)) {
      throw new TypeError(`Expected "denoiser" to return a Float32Array but found ${show(result)}`);
    }
    if (result.length !== this.size) {
      throw new RangeError(
        `Expected "denoiser" to return ${this.size} values (batch ${this.batch} × dim ${this.dim}) but found ${result.length}`,
      );
    }
    const bad = this.state.write(out, result);
    if (bad >= 0) {
      throw new RangeError(
        `Expected "denoiser" to return finite values but found ${
          result[bad]
        } at index ${bad} (sigma ${sigma})`,
      );
    }
    this.#lastInput = input;
    this.#lastOutput = result;
  }

  /** Fills buffer `out` with initial noise (draw 0). */
  initialNoise(out: number): Promise<void> {
    return this.#fill(out, 0);
  }

  noise(out: number): Promise<void> {
    return this.#fill(out, this.#draw++);
  }

  async #fill(out: number, draw: number): Promise<void> {
    const { noise, seed, firstSample } = this.#settings;
    if (!noise) return await this.state.fillGaussian(out, seed, firstSample, draw);
    const host = this.state.view(out) ?? (this.#hostNoise ??= new Float32Array(this.size));
    noise(host, { batch: this.batch, dim: this.dim, firstSample, draw });
    const bad = this.state.write(out, host);
    if (bad >= 0) {
      throw new RangeError(
        `Expected "noise" to write finite values but found ${
          host[bad]
        } at index ${bad} (draw ${draw})`,
      );
    }
  }

  report(step: number, sigma: number, sigmaHat: number): void {
    const onStep = this.#settings.onStep;
    if (onStep === undefined || this.#lastInput === null) return;
    onStep({
      step,
      sigma,
      sigmaHat,
      x: this.#lastInput,
      denoised: this.#lastOutput!,
      nfe: this.#nfe,
    });
  }

  buffer(): number {
    return this.state.buffer();
  }
}
