// A bundler user's browser app: esbuild bundles this with `tessera-ml` from node_modules; the
// page then runs it. Workers and WASM must survive the re-bundling.
import { init, matmul, runtimeInfo, XGBRegressor } from "tessera-ml";

async function main() {
  const info = await init({ threads: 2 });
  const a = { data: Float32Array.from({ length: 96 * 64 }, (_, i) => Math.sin(i)), shape: [96, 64] };
  const b = { data: Float32Array.from({ length: 64 * 80 }, (_, i) => Math.cos(i)), shape: [64, 80] };
  const wasm = await matmul(a, b, { backend: "wasm" });
  const js = await matmul(a, b, { backend: "js" });
  const matmulError = Math.max(...wasm.data.map((x, i) => Math.abs(x - js.data[i])));
  const X = Array.from({ length: 200 }, (_, i) => [i / 200, Math.sin(i)]);
  const y = X.map(([u, w]) => 3 * u + w);
  const model = await new XGBRegressor({ nEstimators: 40, maxDepth: 3 }).fit(X, y);
  const predictions = await model.predict(X);
  const rmse = Math.sqrt(predictions.reduce((a, p, i) => a + (p - y[i]) ** 2, 0) / y.length);
  return { info, after: runtimeInfo(), matmulError, rmse };
}

main().then(
  (result) => (globalThis.result = result),
  (error) => (globalThis.result = { error: String(error?.stack ?? error) }),
);
