// The edge test worker: runs the edge bundle (WASM imported as a module) inside workerd.
// POST {op, a, b, opts} → JSON result; the harness times requests from the client side.
import * as tessera from "./tessera.js";
import { runCases } from "./cases.mjs";

export default {
  async fetch(request) {
    try {
      const { op, args } = await request.json();
      if (op === "info") return Response.json(await tessera.init());
      if (op === "cases") return Response.json(await runCases(tessera, { threads: 1 }));
      if (op === "matmul") {
        const [a, b, opts] = args;
        const t = (x) => ({ data: new Float32Array(x.data), shape: x.shape });
        const out = await tessera.matmul(t(a), t(b), opts);
        return Response.json({ data: Array.from(out.data), shape: out.shape });
      }
      if (op === "bad-input") {
        try {
          await tessera.matmul({ data: new Float32Array(4), shape: [2, 2] }, { data: new Float32Array(3), shape: [3, 1] });
          return Response.json({ error: null });
        } catch (e) {
          return Response.json({ error: `${e.name}: ${e.message}` });
        }
      }
      return new Response(`unknown op ${op}`, { status: 400 });
    } catch (e) {
      return new Response(String(e?.stack ?? e), { status: 500 });
    }
  },
};
