import { checkChoice, show } from "../_validate.ts";
import { callNetwork, checkFunction, outputFor } from "./_network.ts";
import { type PreconditioningName, PRECONDITIONINGS } from "./preconditionings.ts";
import type { Denoiser, Network, Preconditioning } from "./types.ts";

/**
 * Wraps a raw network F into a denoiser with EDM preconditioning (Karras et al. 2022, eq. 7):
 * `D(x; σ) = c_skip(σ)·x + c_out(σ)·F(c_in(σ)·x; c_noise(σ))`.
 *
 * @param network The raw network F(input, c_noise, info), sync or async.
 * @param preconditioning A name from {@link PRECONDITIONINGS} (its default constants) or a
 *   preconditioning object.
 * @returns A denoiser, synchronous when the network is.
 * @throws {TypeError | RangeError} On a non-function network or an unknown preconditioning;
 *   the denoiser throws when F returns the wrong type or length.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { preconditionedDenoiser } from "./mod.ts";
 * // F ≡ 0 leaves only the skip connection: D = σ_d²/(σ²+σ_d²)·x.
 * const denoise = preconditionedDenoiser((x) => new Float32Array(x.length), "edm");
 * const out = denoise(new Float32Array([2]), 0.5, { batch: 1, dim: 1 }) as Float32Array;
 * assert.equal(out[0], 1);
 * ```
 */
export function preconditionedDenoiser(
  network: Network,
  preconditioning: PreconditioningName | Preconditioning,
): Denoiser {
  checkFunction("network", network);
  let pre: Preconditioning;
  if (typeof preconditioning === "string") {
    checkChoice(
      "preconditioning",
      preconditioning,
      Object.keys(PRECONDITIONINGS) as PreconditioningName[],
    );
    pre = PRECONDITIONINGS[preconditioning]();
  } else if (
    preconditioning !== null && typeof preconditioning === "object" &&
    typeof preconditioning.cSkip === "function"
  ) {
    pre = preconditioning;
  } else {
    throw new TypeError(
      `Expected "preconditioning" to be a name or a Preconditioning but found ${
        show(preconditioning)
      }`,
    );
  }
  return (x, sigma, info) => {
    const cSkip = pre.cSkip(sigma), cOut = pre.cOut(sigma), cIn = pre.cIn(sigma);
    const input = new Float32Array(x.length);
    for (let i = 0; i < x.length; i++) input[i] = cIn * x[i];
    return callNetwork("network", network, input, pre.cNoise(sigma), info, (f) => {
      const out = outputFor(info, x.length); // may be f itself: element-wise, so safe
      for (let i = 0; i < x.length; i++) out[i] = cSkip * x[i] + cOut * f[i];
      return out;
    });
  };
}
