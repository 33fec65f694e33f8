/**
 * The context one `sample()` run hands to its sampler: denoiser calls with output checks and
 * the NFE count, counter-based noise draws, and step reports.
 *
 * A denoiser's output must be checked for NaN and ±∞, but a separate pass over it costs as much
 * as a step. The step kernels make it unnecessary: each reports whether every value it wrote is
 * finite, and a NaN or ±∞ in anything it read reaches its output (0·∞ is NaN too). So an output
 * is only marked *pending* when it arrives, and the first update that reads it vouches for it. A
 * pending buffer is scanned where no update will: before it is overwritten or handed to host
 * code, when the run ends, after a failed update (to tell a bad denoiser output from an
 * overflow), and at once when `onStep` is about to see it.
 *
 * @module
 */
import { show } from "../_validate.ts";
import {
  type DiffusionWorkspace,
  type Finite,
  NONE,
  nonFiniteOutput,
  stateOverflow,
} from "../backends/diffusion.ts";
import { AbortWatch, throwIfAborted } from "../_abort.ts";
import { isLendable, isLent, liveView } from "../runtime/_lent.ts";
import type { SamplerContext } from "./_sampler_kit.ts";
import type { Denoiser, DenoiserInfo, NoiseFunction, StepInfo } from "./types.ts";

/**
 * A denoiser that can also run on a workspace's own buffers (`GaussianMixture.denoiser`, through
 * DiffusionWorkspace.mixture): then no host array holds its input or output, and a workspace
 * that keeps rows with the workers (the WASM backend's resident lanes) keeps them there.
 */
export interface SlotDenoiser {
  /** Work per row of one call (see WorkspaceOptions.residentRowWork). */
  rowWork: number;
  /** Buffer `out ←` the denoiser at buffer `x`: what `state.mixture` said; null where it can't. */
  run(state: DiffusionWorkspace, x: number, sigma: number, out: number): Promise<Finite | null>;
}

const slotForms = new WeakMap<object, SlotDenoiser>();

/** Marks `fn` as a denoiser that `form` runs on a workspace's buffers. */
export function markSlotDenoiser(fn: object, form: SlotDenoiser): void {
  slotForms.set(fn, form);
}

/**
 * The form on buffers a run may use for its denoiser: none where `onStep` is to see each call's
 * input and output as host arrays.
 */
export function slotDenoiserOf(
  settings: Pick<RunSettings, "denoiser" | "onStep">,
): SlotDenoiser | undefined {
  return settings.onStep === undefined ? slotForms.get(settings.denoiser) : undefined;
}

export type RunSettings = {
  denoiser: Denoiser;
  state: DiffusionWorkspace;
  seed: number;
  firstSample: number;
  noise?: NoiseFunction;
  onStep?: (step: StepInfo) => void;
  /** Stops the run before the next denoiser call once aborted. */
  signal?: AbortSignal;
};

/** What a checked update returns, now or once it is done; it throws rather than say false. */
type Checked = true | Promise<true>;

/**
 * A workspace that checks what flows through it (see the module notes): the update methods
 * throw instead of returning false, and every buffer that leaves for host code or is lost has
 * been checked.
 */
class CheckedState implements DiffusionWorkspace {
  readonly batch: number;
  readonly dim: number;
  readonly size: number;
  readonly #raw: DiffusionWorkspace;
  /** Buffers holding denoiser output that nothing has vouched for yet, with its σ. */
  readonly #pending = new Map<number, number>();

  constructor(raw: DiffusionWorkspace) {
    this.#raw = raw;
    this.batch = raw.batch;
    this.dim = raw.dim;
    this.size = raw.size;
  }

  /**
   * Marks buffer `slot` as holding the denoiser's output at `sigma`, not yet checked. Where the
   * workspace checks its workers' rows one call late (resident), it is checked at once: a
   * failure found late is then always a step's.
   */
  pend(slot: number, sigma: number): void {
    this.#pending.set(slot, sigma);
    if (this.#raw.resident) this.settle(slot);
  }

  /**
   * Scans buffer `slot` if it is pending.
   *
   * @throws {RangeError} Naming the denoiser, when the buffer holds a value that is not finite.
   */
  settle(slot: number): void {
    const sigma = this.#pending.get(slot);
    if (sigma === undefined) return;
    this.#pending.delete(slot);
    const bad = this.#raw.firstNonFinite(slot);
    if (bad < 0) return;
    const values = new Float32Array(this.size);
    this.#raw.read(slot, values);
    throw nonFiniteOutput(values[bad], bad, sigma);
  }

  /**
   * Evaluates `form` from buffer `x` into `out` on the workspace's own buffers where it can (see
   * {@link SlotDenoiser}): the workspace checks the output itself, and throws the denoiser's
   * error for it (now or at its next call, see DiffusionWorkspace.resident); one that only
   * says "not finite" has it fetched and blamed here. False where the workspace cannot: call
   * the denoiser.
   */
  async denoiseOn(form: SlotDenoiser, x: number, sigma: number, out: number): Promise<boolean> {
    this.settle(x);
    this.settle(out);
    const finite = await form.run(this.#raw, x, sigma, out);
    if (finite === null) return false;
    if (await finite) return true;
    await this.#raw.gather(out);
    this.pend(out, sigma);
    this.settle(out);
    return true;
  }

  /** Scans every pending buffer. */
  settleAll(): void {
    for (const slot of [...this.#pending.keys()]) this.settle(slot);
  }

  buffer(): number {
    return this.#raw.buffer();
  }

  get resident(): boolean {
    return this.#raw.resident === true;
  }

  gather(slot: number): Promise<void> {
    return this.#raw.gather(slot);
  }

  view(slot: number): Float32Array | null {
    this.settle(slot);
    return this.#raw.view(slot);
  }

  lend(slot: number): Float32Array | null {
    this.settle(slot);
    return this.#raw.lend?.(slot) ?? null;
  }

  read(slot: number, out: Float32Array): void {
    this.settle(slot);
    this.#raw.read(slot, out);
  }

  write(slot: number, data: Float32Array): void {
    this.settle(slot);
    this.#raw.write(slot, data);
  }

  firstNonFinite(slot: number): number {
    return this.#raw.firstNonFinite(slot);
  }

  copy(dst: number, src: number): void {
    this.settle(dst);
    this.#raw.copy(dst, src);
    const sigma = this.#pending.get(src);
    if (sigma !== undefined) this.#pending.set(dst, sigma);
  }

  eulerStep(x: number, denoised: number, sigma: number, sigmaNext: number, into = x): Checked {
    this.settle(into);
    return this.#updated(this.#raw.eulerStep(x, denoised, sigma, sigmaNext, into), x, denoised);
  }

  heunStep(
    x: number,
    denoised: number,
    xNext: number,
    denoisedNext: number,
    sigma: number,
    sigmaNext: number,
  ): Checked {
    this.settle(x);
    return this.#updated(
      this.#raw.heunStep(x, denoised, xNext, denoisedNext, sigma, sigmaNext),
      x,
      denoised,
      xNext,
      denoisedNext,
    );
  }

  derivativeStep(
    x: number,
    xEval: number,
    denoisedEval: number,
    sigmaEval: number,
    h: number,
  ): Checked {
    this.settle(x);
    return this.#updated(
      this.#raw.derivativeStep(x, xEval, denoisedEval, sigmaEval, h),
      x,
      xEval,
      denoisedEval,
    );
  }

  ancestralStep(
    x: number,
    denoised: number,
    noise: number,
    sigma: number,
    sigmaDown: number,
    sigmaUp: number,
  ): Checked {
    this.settle(x);
    return this.#updated(
      this.#raw.ancestralStep(x, denoised, noise, sigma, sigmaDown, sigmaUp),
      x,
      denoised,
      noise,
    );
  }

  dpmppStep(
    x: number,
    denoised: number,
    denoisedPrev: number,
    noise: number,
    a: number,
    b: number,
    c: number,
    d: number,
  ): Checked {
    this.settle(x);
    return this.#updated(
      this.#raw.dpmppStep(x, denoised, denoisedPrev, noise, a, b, c, d),
      x,
      denoised,
      denoisedPrev,
      noise,
    );
  }

  axpby(y: number, x: number, a: number, b: number): Checked {
    this.settle(y);
    return this.#updated(this.#raw.axpby(y, x, a, b), y, x);
  }

  blend(x: number, y: number, mask: number): Checked {
    this.settle(x);
    return this.#updated(this.#raw.blend(x, y, mask), x, y, mask);
  }

  fillGaussian(slot: number, seed: number, firstSample: number, draw: number) {
    this.settle(slot);
    return this.#raw.fillGaussian(slot, seed, firstSample, draw);
  }

  release(): void | Promise<void> {
    this.#pending.clear();
    return this.#raw.release();
  }

  /**
   * After an update that read `reads`: a finite result vouches for them all; otherwise the
   * pending ones are scanned to blame the denoiser, and failing that the state overflowed. A
   * split update (a promise) is checked once it is done.
   */
  #updated(finite: Finite, ...reads: number[]): Checked {
    if (typeof finite !== "boolean") return finite.then((done) => this.#updated(done, ...reads));
    if (finite) {
      for (const slot of reads) this.#pending.delete(slot);
      return true;
    }
    for (const slot of reads) if (slot !== NONE) this.settle(slot);
    throw stateOverflow();
  }
}

export class RunContext implements SamplerContext {
  readonly batch: number;
  readonly dim: number;
  readonly size: number;
  readonly state: CheckedState;
  #nfe = 0;
  /** Draw 0 is the initial state, used or not, so a run from `xT` continues the seeded run. */
  #draw = 1;
  readonly #settings: RunSettings;
  /** Where the denoiser's input is copied when the workspace has no host view of it. */
  #hostInput: Float32Array | null = null;
  /** The host array lent as `info.out` where the backend cannot lend its own buffer. */
  #hostOutput: Float32Array | null = null;
  #hostNoise: Float32Array | null = null;
  /** The latest denoiser call's input and output, for `report`. */
  #lastInput: Float32Array | null = null;
  #lastOutput: Float32Array | null = null;
  readonly #watch: AbortWatch;
  /** The denoiser's form on buffers, where it has one the run may use. */
  readonly #slots: SlotDenoiser | undefined;

  constructor(settings: RunSettings) {
    this.#settings = settings;
    this.#slots = slotDenoiserOf(settings);
    this.#watch = new AbortWatch(settings.signal);
    this.state = new CheckedState(settings.state);
    this.batch = settings.state.batch;
    this.dim = settings.state.dim;
    this.size = settings.state.size;
  }

  get nfe(): number {
    return this.#nfe;
  }

  async denoise(x: number, sigma: number, out: number): Promise<void> {
    await this.#watch.check();
    // Only a workspace that keeps rows with the workers runs the denoiser on its buffers.
    const resident = this.state.resident;
    if (resident && this.#slots && await this.state.denoiseOn(this.#slots, x, sigma, out)) {
      this.#nfe++;
      throwIfAborted(this.#settings.signal); // an abort during the call discards its result
      return;
    }
    if (resident) await this.state.gather(x); // the workers may hold some of its rows
    // Where memory is not shared the workspace has no lasting views; Tessera's own denoisers
    // (marked lendable) still get views of its buffers, which they renew after each await.
    const lends = isLendable(this.#settings.denoiser);
    let input = this.state.view(x) ?? (lends ? this.state.lend(x) : null);
    if (input === null) {
      input = this.#hostInput ??= new Float32Array(this.size);
      this.state.read(x, input);
    }
    // The denoiser may write straight into buffer `out` when the backend can lend it, else into
    // a host array kept for the run: a denoiser that fills info.out then allocates nothing (a
    // fresh 1 MiB result faulted in at ~3 ms a call on the test VMs, 4x the mixture's kernel).
    const lent = this.state.view(out) ?? (lends ? this.state.lend(out) : null) ??
      (this.#hostOutput ??= new Float32Array(this.size));
    const info: DenoiserInfo = { batch: this.batch, dim: this.dim, out: lent };
    const returned: unknown = await this.#settings.denoiser(input, sigma, Object.freeze(info));
    this.#nfe++;
    throwIfAborted(this.#settings.signal); // an abort during the call discards its result
    if (!(returned instanceof Float32Array)) {
      throw new TypeError(
        `Expected "denoiser" to return a Float32Array but found ${show(returned)}`,
      );
    }
    // A lent view the memory's growth has detached since: the same floats, seen again.
    const result = liveView(returned);
    if (result.length !== this.size) {
      throw new RangeError(
        `Expected "denoiser" to return ${this.size} values (batch ${this.batch} × dim ${this.dim}) but found ${result.length}`,
      );
    }
    this.state.write(out, result);
    this.state.pend(out, sigma);
    if (this.#settings.onStep !== undefined) this.state.settle(out); // report() shows it
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
    this.state.write(out, host);
    const bad = this.state.firstNonFinite(out);
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
      x: this.#forHost(this.#lastInput, "input"),
      denoised: this.#forHost(this.#lastOutput!, "output"),
      nfe: this.#nfe,
    });
  }

  buffer(): number {
    return this.state.buffer();
  }

  /**
   * `array` for host code: a view lent to a lendable denoiser is copied into the run's host
   * array for that side (`onStep` could grow the memory and find its views empty).
   */
  #forHost(array: Float32Array, side: "input" | "output"): Float32Array {
    if (!isLent(array)) return array;
    const host = side === "input"
      ? this.#hostInput ??= new Float32Array(this.size)
      : this.#hostOutput ??= new Float32Array(this.size);
    host.set(liveView(array));
    return host;
  }

  /** Checks what is still pending and copies buffer `final` out: the run's result. */
  async result(final: number): Promise<Float32Array> {
    await this.state.gather(final);
    this.state.settleAll();
    const out = new Float32Array(this.size);
    this.state.read(final, out);
    return out;
  }
}
