// `node|deno bench/_kernel_only.mjs simd|relaxed`: the matmul (512³) and flash-attention (B = 1,
// H = 8, N = 1024, D = 64) kernels called straight on build/tessera-<build>.wasm, with no
// facade, copies or threads; prints one JSON line of GFLOP/s (medians). Run by
// bench/bounds_bench.ts in child processes, under Node and under Deno with and without software
// bounds checks. Needs build/ (`deno task build`).
import { readFile } from "node:fs/promises";
import { median, random } from "./_common.mjs";

const build = (typeof Deno === "undefined" ? process.argv[2] : Deno.args[0]) ?? "simd";
const bytes = await readFile(new URL(`../build/tessera-${build}.wasm`, import.meta.url));
const memory = new WebAssembly.Memory({ initial: 2048, maximum: 32768 });
const k = (await WebAssembly.instantiate(bytes, { env: { memory } })).instance.exports;
const f32 = () => new Float32Array(memory.buffer);

/** Median ms of `fn` over `runs` calls after two warm-up calls. */
function timed(fn, runs) {
  fn();
  fn();
  const times = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    fn();
    times.push(performance.now() - t0);
  }
  return median(times);
}

// matmul 512³: A, B, packed B, C, scratch from 1 MiB.
const M = 512;
const A = 1 << 20, B = A + M * M * 4, P = B + M * M * 4, C = P + M * M * 4, S = C + M * M * 4;
f32().set(random(M * M, 1), A / 4);
f32().set(random(M * M, 2), B / 4);
const matmulMs = timed(() => {
  k.matmul_pack_b_f32(B, P, M, M, M, 1);
  k.matmul_rows_f32(A, P, C, M, M, 0, M, M, 1, 1, 0, S);
}, 30);

// Flash attention, one task over every (head, query block) item.
const H = 8, N = 1024, D = 64, BR = 64, n = H * N * D;
const Q = 1 << 20, K = Q + 4 * n, V = K + 4 * n, O = V + 4 * n, T = O + 4 * n;
for (const [at, seed] of [[Q, 1], [K, 2], [V, 3]]) f32().set(random(n, seed), at / 4);
const items = H * Math.ceil(N / BR);
const sdpaMs = timed(
  () => k.flash_forward_f32(O, 0, Q, K, V, 0, T, H, H, N, N, D, D, 0, 0, 0, 0, BR, 0, items, 1 / 8, 0),
  8,
);

console.log(JSON.stringify({
  matmul: (2 * M ** 3) / matmulMs / 1e6,
  sdpa: (4 * N * N * D * H) / sdpaMs / 1e6,
}));
