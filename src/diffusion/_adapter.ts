/**
 * The shape shared by the model adapters: a network evaluated on a rescaled input, then
 * `D = p·x + q·F(scale·x; timestep)`.
 *
 * @module
 */
import { checkOptions } from "../_validate.ts";
import { callNetwork, checkFunction, outputFor } from "./_network.ts";
import type { Denoiser, Network } from "./types.ts";

/** How one parameterisation turns (σ) into the input scale, the network time and (p, q). */
export type AdapterForm = (sigma: number) => { scale: number; time: number; p: number; q: number };

/** Builds a denoiser from a model and the per-σ coefficients of its parameterisation. */
export function adapt(
  model: Network,
  opts: { timestep?: (time: number) => number } | undefined,
  form: AdapterForm,
): Denoiser {
  checkFunction("model", model);
  checkOptions("opts", opts, ["timestep"]);
  const timestep = opts?.timestep ?? ((time: number) => time);
  checkFunction("timestep", timestep);
  return (x, sigma, info) => {
    const { scale, time, p, q } = form(sigma);
    let input = x;
    if (scale !== 1) {
      input = new Float32Array(x.length);
      for (let i = 0; i < x.length; i++) input[i] = scale * x[i];
    }
    return callNetwork("model", model, input, timestep(time), info, (f) => {
      const out = outputFor(info, x.length); // may be f itself: element-wise, so safe
      for (let i = 0; i < x.length; i++) out[i] = p * x[i] + q * f[i];
      return out;
    });
  };
}
