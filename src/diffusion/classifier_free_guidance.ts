import { checkOptions, show } from "../_validate.ts";
import { checkFunction, checkNetworkOutput, outputFor } from "./_network.ts";
import type { Denoiser, DenoiserInfo } from "./types.ts";

/** Options of {@link classifierFreeGuidance}: two denoisers, or one batched network. */
export type ClassifierFreeGuidanceOptions = {
  /** D(x; σ | c), the denoiser given the condition. */
  conditional?: Denoiser;
  /** D(x; σ), the same model without it (the null condition). */
  unconditional?: Denoiser;
  /**
   * Instead of the two: one denoiser that evaluates both in a single call. Inside
   * `sigmaInterval` it gets 2·batch rows, x twice, with `info.batch` = 2·batch and
   * `info.unconditionalFrom` = batch: the first half to be conditioned, the second not; it
   * returns 2·batch rows in the same order. Outside the interval it gets the batch rows alone,
   * with `info.unconditionalFrom` = batch (every row conditioned).
   */
  batched?: Denoiser;
  /** The guidance weight w: 1 is the conditional denoiser, 0 the unconditional one. */
  scale: number;
  /**
   * [σ_lo, σ_hi]: guide only at noise levels within it, and use the conditional denoiser alone
   * elsewhere (Kynkäänniemi et al. 2024). Default [0, Infinity], every level.
   */
  sigmaInterval?: [number, number];
};

type Maybe<T> = T | Promise<T>;

/** `f(value)`, synchronously when `value` is not a promise. */
function then<T, R>(value: Maybe<T>, f: (v: T) => Maybe<R>): Maybe<R> {
  return value instanceof Promise ? value.then(f) : f(value);
}

/** Float32Arrays of one length, handed out and taken back (one per concurrent call). */
class Scratch {
  #free: Float32Array[] = [];

  take(n: number): Float32Array {
    const i = this.#free.findIndex((a) => a.length === n);
    return i < 0 ? new Float32Array(n) : this.#free.splice(i, 1)[0];
  }

  give(array: Float32Array): void {
    if (this.#free.length < 4) this.#free.push(array);
  }
}

/** `out ← c + (w − 1)(c − u)` = u + w(c − u); exactly c for w = 1. */
function guide(
  out: Float32Array,
  c: Float32Array,
  u: Float32Array,
  uOffset: number,
  n: number,
  w: number,
): Float32Array {
  const k = w - 1;
  for (let i = 0; i < n; i++) out[i] = c[i] + k * (c[i] - u[uOffset + i]);
  return out;
}

function checkInterval(value: unknown): [number, number] {
  if (value === undefined) return [0, Infinity];
  const ok = Array.isArray(value) && value.length === 2 &&
    value.every((v) => typeof v === "number" && !Number.isNaN(v)) &&
    value[0] >= 0 && Number.isFinite(value[0]) && value[0] <= value[1];
  if (!ok) {
    throw new RangeError(
      `Expected "sigmaInterval" to be [lo, hi] with 0 <= lo <= hi (hi may be Infinity) but found ${
        Array.isArray(value) ? `[${value.map(show).join(", ")}]` : show(value)
      }`,
    );
  }
  return value as [number, number];
}

/**
 * Classifier-free guidance (Ho & Salimans 2022): from a model's conditional and unconditional
 * denoisers, the guided denoiser `D = D_u + w·(D_c − D_u)`, which for w > 1 sharpens samples
 * toward the condition. With `sigmaInterval` it guides only inside that range of noise levels
 * and returns D_c alone elsewhere (Kynkäänniemi et al. 2024, "Applying guidance in a limited
 * interval": guidance at high σ costs diversity, at low σ it does little), which also skips the
 * unconditional evaluation there.
 *
 * Counting evaluations: {@link sample}'s `nfe` counts calls of the guided denoiser. Each costs
 * two calls of the model with `conditional` and `unconditional` inside the interval (one
 * outside), and one call of `batched` on 2·batch rows inside the interval (on batch rows
 * outside), which is the form to use when both come from one network.
 *
 * @param opts See {@link ClassifierFreeGuidanceOptions}: `conditional` and `unconditional`, or
 *   `batched`; `scale`; `sigmaInterval`.
 * @returns A denoiser, synchronous when the model's denoisers are.
 * @throws {TypeError | RangeError} On a missing or non-function denoiser, both forms at once, a
 *   non-finite scale or a bad interval; the denoiser throws when a model returns the wrong type
 *   or length.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { classifierFreeGuidance } from "./mod.ts";
 * const guided = classifierFreeGuidance({
 *   conditional: (x) => x.map(() => 1),     // D_c ≡ 1
 *   unconditional: (x) => x.map(() => 0),   // D_u ≡ 0
 *   scale: 3,
 *   sigmaInterval: [0.3, 5],
 * });
 * const info = { batch: 1, dim: 2 };
 * assert.deepEqual([...(guided(new Float32Array(2), 1, info) as Float32Array)], [3, 3]);
 * assert.deepEqual([...(guided(new Float32Array(2), 10, info) as Float32Array)], [1, 1]);
 * ```
 */
export function classifierFreeGuidance(opts: ClassifierFreeGuidanceOptions): Denoiser {
  if (opts === null || typeof opts !== "object") {
    throw new TypeError(`Expected "opts" to be an options object but found ${show(opts)}`);
  }
  checkOptions("opts", opts, ["conditional", "unconditional", "batched", "scale", "sigmaInterval"]);
  const { conditional, unconditional, batched, scale } = opts;
  if (typeof scale !== "number" || !Number.isFinite(scale)) {
    throw new TypeError(`Expected "scale" to be a finite number but found ${show(scale)}`);
  }
  const [lo, hi] = checkInterval(opts.sigmaInterval);
  const inside = (sigma: number) => sigma >= lo && sigma <= hi;
  if (batched !== undefined) {
    if (conditional !== undefined || unconditional !== undefined) {
      throw new TypeError(
        `Expected either "batched" or "conditional" and "unconditional" but found both forms`,
      );
    }
    checkFunction("batched", batched);
    return batchedGuidance(batched, scale, inside);
  }
  checkFunction("conditional", conditional);
  checkFunction("unconditional", unconditional);
  return pairedGuidance(conditional!, unconditional!, scale, inside);
}

/** Two model calls per guided evaluation, one after the other. */
function pairedGuidance(
  conditional: Denoiser,
  unconditional: Denoiser,
  scale: number,
  inside: (sigma: number) => boolean,
): Denoiser {
  const scratch = new Scratch();
  return (x, sigma, info) => {
    const n = x.length, plain: DenoiserInfo = { batch: info.batch, dim: info.dim };
    if (!inside(sigma)) {
      return conditional(x, sigma, info.out === undefined ? plain : { ...plain, out: info.out });
    }
    const out = outputFor(info, n);
    const cond = conditional(x, sigma, { ...plain, out });
    return then(cond, (c) => {
      checkNetworkOutput("conditional", c, n);
      // D_c must be safe from the second call, which may reuse an array of its own.
      if (c !== out) out.set(c);
      const lent = scratch.take(n);
      return then(unconditional(x, sigma, { ...plain, out: lent }), (u) => {
        checkNetworkOutput("unconditional", u, n);
        guide(out, out, u, 0, n, scale);
        scratch.give(lent);
        return out;
      });
    });
  };
}

/** One model call on [x; x] per guided evaluation. */
function batchedGuidance(
  batched: Denoiser,
  scale: number,
  inside: (sigma: number) => boolean,
): Denoiser {
  const scratch = new Scratch();
  return (x, sigma, info) => {
    const n = x.length, { batch, dim } = info;
    if (!inside(sigma)) {
      const alone: DenoiserInfo = { batch, dim, unconditionalFrom: batch };
      return batched(x, sigma, info.out === undefined ? alone : { ...alone, out: info.out });
    }
    const doubled = scratch.take(2 * n), lent = scratch.take(2 * n);
    doubled.set(x);
    doubled.set(x, n);
    const result = batched(doubled, sigma, {
      batch: 2 * batch,
      dim,
      out: lent,
      unconditionalFrom: batch,
    });
    return then(result, (both) => {
      checkNetworkOutput("batched", both, 2 * n);
      const out = guide(outputFor(info, n), both, both, n, n, scale);
      scratch.give(doubled);
      scratch.give(lent);
      return out;
    });
  };
}
