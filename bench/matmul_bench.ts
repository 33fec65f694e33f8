/**
 * Matmul GFLOP/s at 256³, 512³ and 1024³: the TypeScript reference, the WASM SIMD and relaxed
 * SIMD builds on one thread, the relaxed build on 2 workers, and tfjs-backend-wasm's matMul
 * (XNNPACK, one thread) as the peer. Ratios are against the peer and the reference, same run.
 *
 * @module
 */
import { dispose, init, matmul } from "../src/mod.ts";
import { matmulReference } from "../src/backends/js/matmul.ts";
import { medianMs, randomF32, table } from "./_harness.ts";
import { tfjs } from "./_tfjs.ts";

export const SIZES = [256, 512, 1024];

const gflops = (n: number, ms: number) => (2 * n ** 3) / ms / 1e6;

/** GFLOP/s of one configuration for every size. */
async function series(run: (n: number) => Promise<unknown> | unknown, sizes = SIZES) {
  const out: Record<number, number> = {};
  for (const n of sizes) {
    const runs = n >= 1024 ? 5 : 9;
    out[n] = gflops(n, await medianMs(() => run(n), { runs, minMs: 300 }));
  }
  return out;
}

export async function benchMatmul(): Promise<string> {
  const inputs = Object.fromEntries(SIZES.map((n) => [n, {
    a: { data: randomF32(n * n, 1), shape: [n, n] },
    b: { data: randomF32(n * n, 2), shape: [n, n] },
  }]));
  const wasm = (n: number) => matmul(inputs[n].a, inputs[n].b, { backend: "wasm" });

  const reference = await series((n) => {
    const c = new Float32Array(n * n);
    matmulReference({
      a: inputs[n].a.data, b: inputs[n].b.data, c, m: n, n, k: n,
      transposeA: false, transposeB: false, alpha: 1, beta: 0,
    });
  });
  await init({ threads: 1, relaxedSimd: false });
  const simd = await series(wasm);
  await init({ threads: 1, relaxedSimd: true });
  const relaxed = await series(wasm);
  await init({ threads: 2, relaxedSimd: true });
  const two = await series(wasm);
  await dispose();

  const tf = await tfjs();
  const tensors = Object.fromEntries(SIZES.map((n) => [n, {
    a: tf.tensor2d(inputs[n].a.data, [n, n]),
    b: tf.tensor2d(inputs[n].b.data, [n, n]),
  }]));
  const peer = await series(async (n) => {
    const c = tf.matMul(tensors[n].a, tensors[n].b);
    await c.data();
    c.dispose();
  });

  const rows = SIZES.map((n) => [
    `${n}³`, reference[n], simd[n], relaxed[n], two[n], peer[n],
    `${(relaxed[n] / reference[n]).toFixed(1)}×`,
    `${(relaxed[n] / peer[n]).toFixed(2)}×`,
    `${(two[n] / relaxed[n]).toFixed(2)}×`,
  ]);
  return table(
    [
      "size", "TS reference", "WASM SIMD", "WASM relaxed", "relaxed, 2 workers",
      "tfjs-backend-wasm", "relaxed / TS", "relaxed / tfjs", "2 workers / 1",
    ],
    rows,
  ) + "\n\nGFLOP/s (2·n³ per product), medians; one thread unless stated.";
}

if (import.meta.main) console.log(await benchMatmul());
