/**
 * Property tests (fast-check) of `matmul` on every backend against a float64 triple loop:
 * random m, n, k (0, 1, lanes − 1, micro-kernel edges 4/6/8, K blocks plus tails), transposes,
 * alpha and beta. `TESSERA_PROPERTY_RUNS` sets the cases (default 1,000 in `npm test`).
 */
import fc from "fast-check";
import { dispose, init, matmul } from "../../src/mod.ts";
import { skippable } from "../_skip.ts";
import { WEBGPU_SKIP } from "../_webgpu.ts";
import { assertClose, randomTensor } from "../attention/_naive.ts";

const RUNS = Number(Deno.env.get("TESSERA_PROPERTY_RUNS") ?? 1000);
const SEED = Number(Deno.env.get("TESSERA_PROPERTY_SEED") ?? 20261203);
const size = fc.oneof(fc.constantFrom(0, 1, 3, 4, 5, 6, 7, 8, 9, 63, 64, 65, 129), fc.integer({ min: 0, max: 140 }));

const matmulCase = fc.record({
  m: size, n: size, k: size, transposeA: fc.boolean(), transposeB: fc.boolean(),
  alpha: fc.oneof(fc.constant(1), fc.double({ min: -2, max: 2, noNaN: true })),
  beta: fc.oneof(fc.constant(0), fc.constant(1), fc.double({ min: -2, max: 2, noNaN: true })),
  seed: fc.integer({ min: 1, max: 1 << 30 }),
});

type Case = typeof matmulCase extends fc.Arbitrary<infer T> ? T : never;

function naive(c: Case, a: Float32Array, b: Float32Array, c0: Float32Array) {
  const out = new Float32Array(c.m * c.n);
  for (let i = 0; i < c.m; i++) {
    for (let j = 0; j < c.n; j++) {
      let s = 0;
      for (let p = 0; p < c.k; p++) {
        const x = c.transposeA ? a[p * c.m + i] : a[i * c.k + p];
        const y = c.transposeB ? b[j * c.k + p] : b[p * c.n + j];
        s += x * y;
      }
      out[i * c.n + j] = c.alpha * s + (c.beta === 0 ? 0 : c.beta * c0[i * c.n + j]);
    }
  }
  return out;
}

const BACKENDS = [
  { backend: "wasm" as const, share: 0.8 },
  { backend: "js" as const, share: 0.15 },
  { backend: "webgpu" as const, share: 0.05 },
];

for (const { backend, share } of BACKENDS) {
  const name = `matmul() equals a float64 triple loop on random shapes and options (${backend})`;
  Deno.test(skippable(name, backend === "webgpu" ? WEBGPU_SKIP : null, async () => {
    for (const threads of backend === "wasm" ? [1, 2] : [1]) {
      await init({ threads });
      try {
        await fc.assert(
          fc.asyncProperty(matmulCase, async (c) => {
            const a = randomTensor(c.transposeA ? [c.k, c.m] : [c.m, c.k], c.seed);
            const b = randomTensor(c.transposeB ? [c.n, c.k] : [c.k, c.n], c.seed + 1);
            const c0 = randomTensor([c.m, c.n], c.seed + 2);
            const opts = { transposeA: c.transposeA, transposeB: c.transposeB, alpha: c.alpha, beta: c.beta, backend };
            const out = await matmul(a, b, c.beta === 0 ? opts : { ...opts, c: c0 });
            const tolerance = { atol: 2e-5 * Math.sqrt(c.k + 1) * 4, rtol: 1e-4 };
            assertClose(out.data, naive(c, a.data, b.data, c0.data), { ...tolerance, label: JSON.stringify({ ...c, backend, threads }) });
          }),
          { numRuns: Math.max(10, Math.round((RUNS * share) / (backend === "wasm" ? 2 : 1))), seed: SEED + threads },
        );
      } finally {
        await dispose();
      }
    }
  }));
}
