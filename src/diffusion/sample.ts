import { checkBackend, checkChoice, checkNumber, checkOptions, show } from "../_validate.ts";
import type { Backend } from "../tensor.ts";
import { checkSignal, throwIfAborted } from "../_abort.ts";
import { NOT_STEPWISE, repaint } from "./_inpaint.ts";
import { diffusionKernels } from "./_kernels.ts";
import { RunContext, slotDenoiserOf } from "./_run_context.ts";
import { type SamplerName, SAMPLERS } from "./samplers.ts";
import type { ChurnOptions, Denoiser, NoiseFunction, StepInfo } from "./types.ts";

/** What {@link sample} inpaints around: the known values and where they are. */
export type InpaintOptions = {
  /** The known values, batch × dim, or dim values shared by every row (read where mask > 0). */
  known: Float32Array;
  /** 1 where a value is known, 0 where it is to be generated (fractions blend); same shapes. */
  mask: Float32Array;
  /** RePaint's resampling r: how many times each stretch of steps is taken (default 1). */
  resample?: number;
  /**
   * RePaint's jump length j: after every j steps the state is noised back up j steps, r − 1
   * times (default 1: each step is retaken on its own). Larger jumps harmonise better at the same
   * cost (Lugmayr et al. use r = 10, j = 10).
   */
  jump?: number;
};

/** Options of {@link sample}. */
export type SampleOptions = {
  /** D(x; σ) on batch-major rows, sync or async. */
  denoiser: Denoiser;
  /** Number of samples (rows). */
  batch: number;
  /** Values per sample. */
  dim: number;
  /** Noise levels, strictly decreasing, finite, ≥ 0, at least two (usually ending in 0). */
  sigmas: ArrayLike<number>;
  /** A name from {@link SAMPLERS} (default "heun"). */
  sampler?: SamplerName;
  /** EDM churn, for the samplers that accept it (euler, heun, dpm2). */
  churn?: ChurnOptions;
  /** The sampler's own options (see {@link SAMPLERS}). */
  samplerOptions?: Record<string, unknown>;
  /** Seed of all noise, an integer in [0, 2³²) (default 0). */
  seed?: number;
  /** Starting state (batch × dim) at sigmas[0]; when given no initial noise is drawn. */
  xT?: Float32Array;
  /** Index of the first row among all samples of the seed (default 0); for split batches. */
  firstSample?: number;
  /** Replaces the built-in Gaussian noise. */
  noise?: NoiseFunction;
  /** Called after each step's denoiser evaluation. */
  onStep?: (step: StepInfo) => void;
  /** Kernel backend (default "auto"; "js" never starts the WASM runtime). */
  backend?: Backend;
  /**
   * Aborting it stops the run before its next denoiser call (an evaluation under way is let
   * finish and its result dropped): the promise rejects with the signal's reason, a DOMException
   * named "AbortError" after a plain `abort()`, and the run's workspace is freed. A signal that
   * is already aborted rejects before the denoiser is ever called.
   */
  signal?: AbortSignal;
  /**
   * Inpainting by RePaint (Lugmayr et al. 2022): after every step the known coordinates are
   * replaced by `known` noised to the new level, and each step is taken `resample` times with the
   * state noised back up in between. The result holds `known` exactly where the mask is 1; the
   * rest follows the data distribution given the known part. The sampler runs one step at a
   * time, so multistep samplers (lms, dpmpp-2m, dpmpp-3m-sde, unipc, ipndm) fall back to their
   * first-order step; "probability-flow", "annealed-langevin" and "restart" are refused.
   */
  inpaint?: InpaintOptions;
};

const KNOWN = [
  "denoiser",
  "batch",
  "dim",
  "sigmas",
  "sampler",
  "churn",
  "samplerOptions",
  "seed",
  "xT",
  "firstSample",
  "noise",
  "onStep",
  "backend",
  "signal",
  "inpaint",
];

function checkFunction(name: string, value: unknown, optional: boolean): void {
  if ((value !== undefined || !optional) && typeof value !== "function") {
    throw new TypeError(`Expected "${name}" to be a function but found ${show(value)}`);
  }
}

/** `value` as batch × dim values: itself, or a row of dim values repeated for every row. */
function toRows(name: string, value: unknown, batch: number, dim: number): Float32Array {
  if (!(value instanceof Float32Array)) {
    throw new TypeError(`Expected "${name}" to be a Float32Array but found ${show(value)}`);
  }
  if (value.length !== batch * dim && value.length !== dim) {
    throw new RangeError(
      `Expected "${name}" to hold batch × dim = ${
        batch * dim
      } or dim = ${dim} values but found ${value.length}`,
    );
  }
  const rows = new Float32Array(batch * dim);
  if (value.length === dim) { for (let r = 0; r < batch; r++) rows.set(value, r * dim); }
  else rows.set(value);
  return rows;
}

/** The inpainting option, checked, as full rows. */
function toInpaint(value: unknown, batch: number, dim: number, sampler: string) {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new TypeError(`Expected "inpaint" to be an options object but found ${show(value)}`);
  }
  checkOptions("inpaint", value, ["known", "mask", "resample", "jump"]);
  const { resample = 1, jump = 1 } = value as InpaintOptions;
  const known = toRows("inpaint.known", (value as InpaintOptions).known, batch, dim);
  const mask = toRows("inpaint.mask", (value as InpaintOptions).mask, batch, dim);
  checkNumber("inpaint.resample", resample, { min: 1, max: 1000, integer: true });
  checkNumber("inpaint.jump", jump, { min: 1, integer: true });
  for (let i = 0; i < mask.length; i++) {
    if (!(mask[i] >= 0 && mask[i] <= 1)) {
      throw new RangeError(
        `Expected "inpaint.mask" to hold values in [0, 1] but found ${mask[i]} at index ${i}`,
      );
    }
    if (mask[i] > 0 && !Number.isFinite(known[i])) {
      throw new RangeError(
        `Expected "inpaint.known" to be finite where the mask is set but found ${
          known[i]
        } at index ${i}`,
      );
    }
    if (mask[i] === 0) known[i] = 0; // unread there (0·known), but must not be NaN
  }
  if (NOT_STEPWISE.includes(sampler)) {
    throw new RangeError(
      `Expected a sampler that runs step by step with "inpaint" but found "${sampler}"`,
    );
  }
  return { known, mask, resample, jump };
}

/** Copies and checks the schedule: finite, ≥ 0, strictly decreasing, at least two entries. */
function toSigmas(value: unknown): Float64Array {
  if (
    value === null || typeof value !== "object" ||
    typeof (value as ArrayLike<number>).length !== "number"
  ) {
    throw new TypeError(`Expected "sigmas" to be an array of numbers but found ${show(value)}`);
  }
  const src = value as ArrayLike<unknown>;
  if (src.length < 2) {
    throw new RangeError(`Expected "sigmas" to have at least 2 entries but found ${src.length}`);
  }
  const out = new Float64Array(src.length);
  for (let i = 0; i < src.length; i++) {
    const v = src[i];
    if (typeof v !== "number" || !Number.isFinite(v)) {
      throw new RangeError(`Expected "sigmas" to hold finite numbers but entry ${i} is ${show(v)}`);
    }
    if (v < 0) throw new RangeError(`Expected "sigmas" to be >= 0 but entry ${i} is ${v}`);
    if (i > 0 && v >= out[i - 1]) {
      throw new RangeError(
        `Expected "sigmas" to be strictly decreasing but entry ${i} (${v}) is not below entry ${
          i - 1
        } (${out[i - 1]})`,
      );
    }
    out[i] = v;
  }
  return out;
}

/**
 * Draws samples by integrating a diffusion model's reverse process down a noise schedule, in
 * the sigma space of Karras et al. (2022): x starts at `sigmas[0]·z` (or `xT`), the chosen
 * sampler steps it through every level, and the final state is returned.
 *
 * Noise is counter-based: row r is sample `firstSample + r`, and its noise at draw d depends
 * only on (seed, sample, d), so a sample is the same in any batch size or split.
 *
 * Editing. `inpaint` regenerates the coordinates where the mask is 0 around fixed ones (RePaint).
 * Image-to-image starts part-way down: noise a given x₀ to a chosen level σ_start yourself,
 * `xT = x₀ + σ_start·z`, and pass a schedule that starts there (e.g.
 * `karrasSigmas({ steps, sigmaMax: σ_start })`, or the tail of a longer schedule); a small
 * σ_start keeps x₀'s layout, a large one forgets it.
 *
 * @param opts See {@link SampleOptions}.
 * @returns The batch × dim samples, batch-major.
 * @throws {TypeError | RangeError} On a bad or unknown option, a bad schedule, an unknown
 *   sampler or sampler option, and when the denoiser returns the wrong type, length or a
 *   non-finite value (naming the argument).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { karrasSigmas, sample } from "./mod.ts";
 * // Data that is always 3: the exact denoiser is the constant 3.
 * const out = await sample({
 *   denoiser: (x) => new Float32Array(x.length).fill(3),
 *   batch: 2, dim: 2, sigmas: karrasSigmas({ steps: 4 }), sampler: "heun", seed: 1,
 * });
 * assert.deepEqual([...out], [3, 3, 3, 3]);
 * ```
 */
export async function sample(opts: SampleOptions): Promise<Float32Array> {
  if (opts === null || typeof opts !== "object") {
    throw new TypeError(`Expected "opts" to be an options object but found ${show(opts)}`);
  }
  checkOptions("opts", opts, KNOWN);
  const { denoiser, batch, dim, sampler = "heun", churn, samplerOptions = {}, seed = 0 } = opts;
  const { xT, firstSample = 0, noise, onStep, backend, signal } = opts;
  checkFunction("denoiser", denoiser, false);
  checkNumber("batch", batch, { min: 1, integer: true });
  checkNumber("dim", dim, { min: 1, integer: true });
  const sigmas = toSigmas(opts.sigmas);
  checkChoice("sampler", sampler, Object.keys(SAMPLERS) as SamplerName[]);
  if (
    samplerOptions === null || typeof samplerOptions !== "object" || Array.isArray(samplerOptions)
  ) {
    throw new TypeError(
      `Expected "samplerOptions" to be an options object but found ${show(samplerOptions)}`,
    );
  }
  checkNumber("seed", seed, { min: 0, max: 0xffffffff, integer: true });
  checkNumber("firstSample", firstSample, { min: 0, max: 0xffffffff, integer: true });
  checkFunction("noise", noise, true);
  checkFunction("onStep", onStep, true);
  checkBackend("backend", backend);
  checkSignal("signal", signal);
  const inpaint = opts.inpaint === undefined
    ? undefined
    : toInpaint(opts.inpaint, batch, dim, sampler);
  if (xT !== undefined) {
    if (!(xT instanceof Float32Array)) {
      throw new TypeError(`Expected "xT" to be a Float32Array but found ${show(xT)}`);
    }
    if (xT.length !== batch * dim) {
      throw new RangeError(
        `Expected "xT" to hold batch × dim = ${batch * dim} values but found ${xT.length}`,
      );
    }
  }
  throwIfAborted(signal);
  // At least the samples and the denoiser's output (and the inpainting's known values and
  // mask) live in WASM memory at once: a batch that cannot fit is refused before any is taken.
  const bytes = { batch: (inpaint === undefined ? 2 : 4) * batch * dim * 4 };
  const kernels = await diffusionKernels(backend, { flops: batch * dim, bytes });
  throwIfAborted(signal);
  // A denoiser the workspace can run on its own buffers lets it keep rows with the workers.
  const slots = slotDenoiserOf({ denoiser, onStep });
  const state = kernels.workspace(batch, dim, { residentRowWork: slots?.rowWork ?? 0 });
  try {
    const ctx = new RunContext({ denoiser, state, seed, firstSample, noise, onStep, signal });
    const x = ctx.buffer();
    if (xT !== undefined) {
      ctx.state.write(x, xT);
      const bad = ctx.state.firstNonFinite(x);
      if (bad >= 0) {
        throw new RangeError(
          `Expected "xT" to hold finite values but found ${xT[bad]} at index ${bad}`,
        );
      }
    } else {
      await ctx.initialNoise(x);
      await ctx.state.axpby(x, x, sigmas[0], 0);
    }
    const options = churn === undefined ? samplerOptions : { ...samplerOptions, churn };
    let run = SAMPLERS[sampler];
    if (inpaint !== undefined) {
      const known = ctx.buffer(), mask = ctx.buffer();
      ctx.state.write(known, inpaint.known);
      ctx.state.write(mask, inpaint.mask);
      run = repaint(run, { known, mask, resample: inpaint.resample, jump: inpaint.jump });
    }
    return await ctx.result(await run(ctx, x, sigmas, options));
  } finally {
    await state.release(); // a failed run's workers may still hold its buffers
  }
}
