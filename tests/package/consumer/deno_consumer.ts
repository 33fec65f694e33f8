// A Deno (or CDN) user of the bundle itself: Deno finds the declarations through the bundle's
// `@ts-self-types` first line. `deno check` must accept the right calls and reject the wrong.
import { fromXGBoostJSON, init, karrasSigmas, sample, scaledDotProductAttention, tensor, XGBRegressor } from "./node_modules/tessera-ml/dist/tessera.js";
import type { RuntimeInfo, Tensor } from "./node_modules/tessera-ml/dist/tessera.js";

export async function use(): Promise<Tensor> {
  const info: RuntimeInfo = await init({ threads: 1 });
  const sigmas: Float64Array = karrasSigmas({ steps: 4 });
  // @ts-expect-error steps is required
  karrasSigmas({ sigmaMax: 80 });
  const x: Float32Array = await sample({ denoiser: (v) => v, batch: 1, dim: 2, sigmas });
  const model = await new XGBRegressor({ nEstimators: 2 }).fit([[1], [2]], [1, 2]);
  // @ts-expect-error a model is not a string
  const n: string = fromXGBoostJSON(JSON.stringify(model.toJSON()));
  const q = tensor(x, [1, 1, 1, 2]);
  // @ts-expect-error causal is a boolean
  await scaledDotProductAttention(q, q, q, { causal: 1 });
  return info.threads > 0 && n ? q : await scaledDotProductAttention(q, q, q);
}
