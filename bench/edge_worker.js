// The benchmark worker for `npm run bench:edge`: runs a kernel `reps` times on data it makes
// itself, so the client's round-trip time measures the kernel and not JSON transfer.
import * as tessera from "./tessera.js";

function random(n, seed) {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = (s / 2 ** 32) * 2 - 1;
  }
  return out;
}
const cache = new Map();

export default {
  async fetch(request) {
    const { op, args } = await request.json();
    if (op === "ping") return new Response("{}");
    if (op === "info") return Response.json(await tessera.init());
    if (op === "matmul") {
      const [{ n, backend, reps }] = args;
      if (!cache.has(n)) cache.set(n, { data: random(n * n, n), shape: [n, n] });
      const a = cache.get(n);
      for (let i = 0; i < reps; i++) await tessera.matmul(a, a, { backend });
      return new Response("{}");
    }
    return new Response(`unknown op ${op}`, { status: 400 });
  },
};
