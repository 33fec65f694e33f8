/**
 * Matmul GFLOP/s at 256³, 512³ and 1024³: the TypeScript reference, the WASM SIMD and relaxed
 * SIMD builds on one thread, the relaxed build on 2 workers, and tfjs-backend-wasm's matMul
 * (XNNPACK, one thread) as the peer, in rounds that each run every configuration in turn.
 * Ratios are against the peer and the reference, same run.
 *
 * @module
 */
import { dispose, init, matmul } from "../src/mod.ts";
import { matmulReference } from "../src/backends/js/matmul.ts";
import { median, medianMs, randomF32, table } from "./_harness.ts";
import { tfjs } from "./_tfjs.ts";

export const SIZES = [256, 512, 1024];

const gflops = (n: number, ms: number) => (2 * n ** 3) / ms / 1e6;

/** GFLOP/s of one configuration for every size. */
async function series(run: (n: number) => Promise<unknown> | unknown, sizes = SIZES) {
  const out: Record<number, number> = {};
  for (const n of sizes) {
    const runs = n >= 1024 ? 5 : 9;
    out[n] = gflops(n, await medianMs(() => run(n), { runs, minMs: 150 }));
  }
  return out;
}

/** Rounds of the interleaved configurations; the table gives medians over them. */
const ROUNDS = 5;

export async function benchMatmul(): Promise<string> {
  const inputs = Object.fromEntries(SIZES.map((n) => [n, {
    a: { data: randomF32(n * n, 1), shape: [n, n] },
    b: { data: randomF32(n * n, 2), shape: [n, n] },
  }]));
  const wasm = (n: number) => matmul(inputs[n].a, inputs[n].b, { backend: "wasm" });

  // The reference is two orders of magnitude slower: one series of it is enough for its ratio.
  const reference = await series((n) => {
    const c = new Float32Array(n * n);
    matmulReference({
      a: inputs[n].a.data, b: inputs[n].b.data, c, m: n, n, k: n,
      transposeA: false, transposeB: false, alpha: 1, beta: 0,
    });
  });
  const tf = await tfjs();
  const tensors = Object.fromEntries(SIZES.map((n) => [n, {
    a: tf.tensor2d(inputs[n].a.data, [n, n]),
    b: tf.tensor2d(inputs[n].b.data, [n, n]),
  }]));
  const tfMatmul = async (n: number) => {
    const c = tf.matMul(tensors[n].a, tensors[n].b);
    await c.data();
    c.dispose();
  };

  // Each round measures every configuration in turn, so each ratio compares runs taken seconds
  // apart (this host's speed drifts by more than the differences between builds).
  const rounds: Array<Record<"simd" | "relaxed" | "two" | "peer", Record<number, number>>> = [];
  for (let round = 0; round < ROUNDS; round++) {
    await init({ threads: 1, relaxedSimd: false });
    const simd = await series(wasm);
    await init({ threads: 1, relaxedSimd: true });
    const relaxed = await series(wasm);
    await init({ threads: 2, relaxedSimd: true });
    const two = await series(wasm);
    const peer = await series(tfMatmul);
    rounds.push({ simd, relaxed, two, peer });
  }
  await dispose();

  const mid = (f: (r: (typeof rounds)[number]) => number) => median(rounds.map(f));
  const rows = SIZES.map((n) => [
    `${n}³`, reference[n], mid((r) => r.simd[n]), mid((r) => r.relaxed[n]), mid((r) => r.two[n]),
    mid((r) => r.peer[n]),
    `${(mid((r) => r.relaxed[n]) / reference[n]).toFixed(1)}×`,
    `${mid((r) => r.relaxed[n] / r.peer[n]).toFixed(2)}×`,
    `${mid((r) => r.two[n] / r.relaxed[n]).toFixed(2)}×`,
  ]);
  return table(
    [
      "size", "TS reference", "WASM SIMD", "WASM relaxed", "relaxed, 2 workers",
      "tfjs-backend-wasm", "relaxed / TS", "relaxed / tfjs", "2 workers / 1",
    ],
    rows,
  ) + `\n\nGFLOP/s (2·n³ per product, each into a fresh array), medians of ${ROUNDS} rounds that each ` +
    "run every configuration in turn, each ratio taken within a round; one thread unless stated.";
}

if (import.meta.main) console.log(await benchMatmul());
