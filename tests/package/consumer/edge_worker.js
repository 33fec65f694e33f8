// An edge user's worker: `tessera-ml/edge` bundled as wrangler would (the .wasm import kept
// as a module), served by workerd.
import { init, matmul, XGBRegressor } from "tessera-ml/edge";

export default {
  async fetch() {
    try {
      const info = await init();
      const a = { data: Float32Array.from({ length: 40 * 24 }, (_, i) => Math.sin(i)), shape: [40, 24] };
      const b = { data: Float32Array.from({ length: 24 * 16 }, (_, i) => Math.cos(i)), shape: [24, 16] };
      const wasm = await matmul(a, b, { backend: "wasm" });
      const js = await matmul(a, b, { backend: "js" });
      const matmulError = Math.max(...wasm.data.map((x, i) => Math.abs(x - js.data[i])));
      const X = Array.from({ length: 100 }, (_, i) => [i / 100]);
      const model = await new XGBRegressor({ nEstimators: 20, maxDepth: 2 }).fit(X, X.map(([u]) => 2 * u));
      const [p] = await model.predict([[0.5]]);
      return Response.json({ info, matmulError, p });
    } catch (e) {
      return new Response(String(e?.stack ?? e), { status: 500 });
    }
  },
};
