/**
 * Inpainting by RePaint (Lugmayr et al. 2022, Algorithm 1) around any single-step sampler: the
 * sampler takes one step of the schedule at a time; after each, the known coordinates are
 * replaced by the known values noised to the new level, and with `resample` > 1 the state is
 * noised back up to the step's start and the step is taken again, so that the generated part
 * has several chances to agree with the known part.
 *
 * ```
 *  for each step σ_i → σ_{i+1}:
 *    repeat `resample` times:
 *      x ← sampler step(x, σ_i → σ_{i+1})
 *      x ← (1 − m)·x + m·(known + σ_{i+1}·z)        fresh z each time
 *      unless the last repeat (or σ_{i+1} = 0): x ← x + √(σ_i² − σ_{i+1}²)·z
 * ```
 *
 * @module
 */
import type { Sampler, SamplerContext } from "./_sampler_kit.ts";

/** Samplers that cannot run one step at a time. */
export const NOT_STEPWISE = ["probability-flow", "annealed-langevin", "restart"];

/**
 * A sampler's view of the run while it takes one step: everything passes to the run's context,
 * except that buffers are reused from one step to the next (a step's sampler asks for them
 * afresh) and reports carry the index of the step in the whole schedule.
 */
class StepContext implements SamplerContext {
  readonly batch: number;
  readonly dim: number;
  readonly size: number;
  readonly state: SamplerContext["state"];
  #step = 0;
  #next = 0;
  readonly #pool: number[] = [];

  constructor(readonly run: SamplerContext) {
    this.batch = run.batch;
    this.dim = run.dim;
    this.size = run.size;
    this.state = run.state;
  }

  get nfe(): number {
    return this.run.nfe;
  }

  /** Starts step `step`: its sampler's buffers are handed out again from the first. */
  begin(step: number): void {
    this.#step = step;
    this.#next = 0;
  }

  denoise(x: number, sigma: number, out: number): Promise<void> {
    return this.run.denoise(x, sigma, out);
  }

  noise(out: number): Promise<void> {
    return this.run.noise(out);
  }

  report(_step: number, sigma: number, sigmaHat: number): void {
    this.run.report(this.#step, sigma, sigmaHat);
  }

  buffer(): number {
    if (this.#next === this.#pool.length) this.#pool.push(this.run.buffer());
    return this.#pool[this.#next++];
  }
}

/** Where the known part lives: workspace slots of the known values and of the mask. */
export type KnownPart = { known: number; mask: number; resample: number; jump: number };

/**
 * `options` for one step of a schedule of `steps`: churn's γ = min(S_churn/N, √2 − 1) must see
 * the whole schedule's N, so S_churn is divided by it.
 */
function oneStepOptions(options: Readonly<Record<string, unknown>>, steps: number) {
  const churn = options.churn as { sChurn?: unknown } | undefined;
  if (churn === undefined || churn === null || typeof churn.sChurn !== "number") return options;
  return { ...options, churn: { ...churn, sChurn: churn.sChurn / steps } };
}

/** RePaint around `inner` (see the module notes). */
export function repaint(inner: Sampler, part: KnownPart): Sampler {
  return async (ctx, x, sigmas, options) => {
    const steps = sigmas.length - 1, state = ctx.state, { resample, jump } = part;
    const step = new StepContext(ctx), target = ctx.buffer(), noise = ctx.buffer();
    const stepOptions = oneStepOptions(options, steps);
    /** x's known coordinates ← known + σ·z. */
    const replaceKnown = async (sigma: number) => {
      if (sigma === 0) {
        await state.blend(x, part.known, part.mask);
        return;
      }
      await ctx.noise(noise);
      state.copy(target, part.known);
      await state.axpby(target, noise, 1, sigma);
      await state.blend(x, target, part.mask);
    };
    await replaceKnown(sigmas[0]);
    const jumpsMade = new Int32Array(steps + 1);
    let i = 0;
    while (i < steps) {
      step.begin(i);
      const out = await inner(step, x, sigmas.subarray(i, i + 2), stepOptions);
      if (out !== x) state.copy(x, out);
      await replaceKnown(sigmas[++i]);
      // Jump points are every `jump` steps counted from the end (σ = 0, which is never one).
      const back = i - jump;
      if (i < steps && back >= 0 && (steps - i) % jump === 0 && jumpsMade[i] < resample - 1) {
        jumpsMade[i]++;
        await ctx.noise(noise);
        const from = sigmas[i], to = sigmas[back];
        await state.axpby(x, noise, 1, Math.sqrt(to * to - from * from));
        i = back;
      }
    }
    // The known part comes back exact even from a schedule that stops above σ = 0.
    if (sigmas[steps] !== 0) await state.blend(x, part.known, part.mask);
    return x;
  };
}
