/**
 * Property tests (fast-check): random shapes and options through the public attention API on
 * every backend, against the naive definitions of _naive.ts. Sizes lean on the edges the
 * kernels have: 0 and 1, a SIMD lane count minus one, one key block (64) plus a tail; grouped
 * query heads, Nq ≠ Nk, causal alignment, broadcast masks with −∞, chunk sizes.
 *
 * `TESSERA_PROPERTY_RUNS` sets the cases per property (default 350 here: three properties,
 * over 1,000 cases for the family in `npm test`); `npm run soak` runs many more.
 */
import fc from "fast-check";
import {
  dispose, init, linearAttention, mixedChunkAttention, scaledDotProductAttention,
} from "../../src/mod.ts";
import type { Tensor } from "../../src/mod.ts";
import { assertClose, naiveLinear, naiveMixedChunk, naiveSoftmax, randomTensor } from "./_naive.ts";
import { skippable } from "../_skip.ts";
import { WEBGPU_SKIP } from "../_webgpu.ts";

const RUNS = Number(Deno.env.get("TESSERA_PROPERTY_RUNS") ?? 350);
const SEED = Number(Deno.env.get("TESSERA_PROPERTY_SEED") ?? 20261203);
/** WebGPU on Deno's software adapter is slow: a tenth of the cases. */
const BACKENDS = [
  { backend: "wasm" as const, share: 1 },
  { backend: "js" as const, share: 0.25 },
  { backend: "webgpu" as const, share: 0.1 },
];
const TOLERANCE = { atol: 5e-5, rtol: 5e-4 };

/** Lengths: the edges first (0, 1, 3, 4, 63, 64, 65), then anything up to 150. */
const length = fc.oneof(fc.constantFrom(0, 1, 3, 4, 7, 8, 63, 64, 65, 129), fc.integer({ min: 0, max: 150 }));
const dim = fc.oneof(fc.constantFrom(1, 3, 4, 8, 16), fc.integer({ min: 1, max: 40 }));
const heads = fc.constantFrom([1, 1], [2, 1], [2, 2], [4, 2], [3, 1], [6, 3]);

/** Runs `check` once per backend with its share of the runs, each on one and two threads. */
function property<T>(name: string, arbitrary: fc.Arbitrary<T>, check: (backend: "js" | "wasm" | "webgpu", value: T) => Promise<void>) {
  for (const { backend, share } of BACKENDS) {
    Deno.test(skippable(`${name} (${backend})`, backend === "webgpu" ? WEBGPU_SKIP : null, async () => {
      for (const threads of backend === "wasm" ? [1, 2] : [1]) {
        await init({ threads });
        try {
          await fc.assert(fc.asyncProperty(arbitrary, (value) => check(backend, value)), {
            numRuns: Math.max(10, Math.round((RUNS * share) / (backend === "wasm" ? 2 : 1))),
            seed: SEED + threads,
          });
        } finally {
          await dispose();
        }
      }
    }));
  }
}

const softmaxCase = fc.record({
  batch: fc.integer({ min: 1, max: 2 }), heads, nq: length, nk: length, d: dim, dv: dim,
  causal: fc.boolean(), maskKind: fc.constantFrom("none", "full", "row", "head"), scale: fc.option(fc.double({ min: 0.05, max: 2, noNaN: true })),
  seed: fc.integer({ min: 1, max: 1 << 30 }),
});

property("scaledDotProductAttention() equals the naive definition on random shapes", softmaxCase, async (backend, c) => {
  const [H, Hkv] = c.heads;
  const q = randomTensor([c.batch, H, c.nq, c.d], c.seed);
  const k = randomTensor([c.batch, Hkv, c.nk, c.d], c.seed + 1);
  const v = randomTensor([c.batch, Hkv, c.nk, c.dv], c.seed + 2);
  let mask: Tensor | undefined;
  if (c.maskKind !== "none") {
    // Broadcast shapes; about one entry in five is −∞ (some rows end fully masked).
    const shape = c.maskKind === "full" ? [c.batch, H, c.nq, c.nk] : c.maskKind === "head" ? [1, H, c.nq, c.nk] : [1, 1, 1, c.nk];
    mask = randomTensor(shape, c.seed + 3);
    mask.data.forEach((x, i) => (mask!.data[i] = x < -0.6 ? -Infinity : x));
  }
  const opts = { causal: c.causal, mask, scale: c.scale ?? undefined };
  const out = await scaledDotProductAttention(q, k, v, { ...opts, backend });
  const want = naiveSoftmax(q, k, v, opts);
  assertClose(out.data, want.out, { ...TOLERANCE, label: JSON.stringify({ ...c, backend }) });
});

const linearCase = fc.record({
  batch: fc.integer({ min: 1, max: 2 }), heads, n: length, nk: length, d: dim, dv: dim,
  causal: fc.boolean(), featureMap: fc.constantFrom("elu+1" as const, "relu" as const),
  seed: fc.integer({ min: 1, max: 1 << 30 }),
});

property("linearAttention() equals the naive definition on random shapes", linearCase, async (backend, c) => {
  const [H, Hkv] = c.heads;
  const nk = c.causal ? c.n : c.nk; // causal needs Nq = Nk
  const q = randomTensor([c.batch, H, c.n, c.d], c.seed);
  const k = randomTensor([c.batch, Hkv, nk, c.d], c.seed + 1);
  const v = randomTensor([c.batch, Hkv, nk, c.dv], c.seed + 2);
  const opts = { causal: c.causal, featureMap: c.featureMap };
  const out = await linearAttention(q, k, v, { ...opts, backend });
  // relu can leave a row's denominator near zero: compare where it is well away from it.
  assertClose(out.data, naiveLinear(q, k, v, opts), { atol: 2e-4, rtol: 2e-3, label: JSON.stringify({ ...c, backend }) });
});

const mixedCase = fc.record({
  batch: fc.integer({ min: 1, max: 2 }), heads, n: length, d: dim, dv: dim,
  chunk: fc.oneof(fc.constantFrom(1, 4, 16, 64, 65), fc.integer({ min: 1, max: 100 })),
  causal: fc.boolean(), global: fc.constantFrom("qk", "separate", "none"), linearDim: fc.integer({ min: 1, max: 12 }),
  seed: fc.integer({ min: 1, max: 1 << 30 }),
});

property("mixedChunkAttention() equals the naive definition on random shapes", mixedCase, async (backend, c) => {
  const [H, Hkv] = c.heads;
  const q = randomTensor([c.batch, H, c.n, c.d], c.seed);
  const k = randomTensor([c.batch, Hkv, c.n, c.d], c.seed + 1);
  const v = randomTensor([c.batch, Hkv, c.n, c.dv], c.seed + 2);
  const separate = c.global === "separate";
  const linQ = separate ? randomTensor([c.batch, H, c.n, c.linearDim], c.seed + 3) : undefined;
  const linK = separate ? randomTensor([c.batch, Hkv, c.n, c.linearDim], c.seed + 4) : undefined;
  const opts = { chunkSize: c.chunk, causal: c.causal, linQ, linK };
  if (c.global === "none") {
    // No global part: linear terms of zeros.
    const zeroQ = { data: new Float32Array(c.batch * H * c.n), shape: [c.batch, H, c.n, 1] };
    const zeroK = { data: new Float32Array(c.batch * Hkv * c.n), shape: [c.batch, Hkv, c.n, 1] };
    Object.assign(opts, { linQ: zeroQ, linK: zeroK });
  }
  const out = await mixedChunkAttention(q, k, v, { ...opts, backend });
  const want = naiveMixedChunk(q, k, v, opts);
  assertClose(out.data, want, { ...TOLERANCE, label: JSON.stringify({ ...c, backend }) });
});
