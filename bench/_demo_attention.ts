/**
 * The attention section of `npm run demo`: scaled dot-product, linear and mixed-chunk attention
 * on WASM (the runtime's threads), their throughput at two lengths, and the largest difference
 * from the plain-TypeScript reference at a small length.
 *
 * FLOPs per head: softmax 4·N²·D, linear 4·N·D², mixed-chunk 4·N·C·D + 4·N·D² (chunk C).
 *
 * @module
 */
// deno-lint-ignore-file no-explicit-any
import type { DemoKit } from "./_demo_diffusion.ts";

const HEADS = 8, DIM = 64, CHUNK = 128;
const LENGTHS = [512, 2048];
const CHECK_LENGTH = 256;
const ROUNDS = 3;

function random(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = (s / 2 ** 32) * 2 - 1;
  }
  return out;
}

const qkv = (n: number) =>
  [1, 2, 3].map((seed) => ({
    data: random(HEADS * n * DIM, seed * 7919 + n),
    shape: [1, HEADS, n, DIM],
  }));

/** Times each kernel on WASM and checks it against the JS reference. */
export async function attentionSection({ tessera, progress, bold }: DemoKit): Promise<void> {
  console.log(
    bold("\nAttention (scaledDotProductAttention, linearAttention, mixedChunkAttention)"),
  );
  const info = tessera.runtimeInfo();
  console.log(
    `  batch 1, ${HEADS} heads, head dim ${DIM}, WASM on ${info.threads} thread(s); ` +
      `best of ${ROUNDS}; checked against the JS reference at N = ${CHECK_LENGTH}`,
  );
  const kernels = [
    {
      name: "softmax (SDPA)",
      run: (q: any, k: any, v: any, backend: string) =>
        tessera.scaledDotProductAttention(q, k, v, { backend }),
      flops: (n: number) => HEADS * 4 * n * n * DIM,
    },
    {
      name: "linear",
      run: (q: any, k: any, v: any, backend: string) =>
        tessera.linearAttention(q, k, v, { backend }),
      flops: (n: number) => HEADS * 4 * n * DIM * DIM,
    },
    {
      name: `mixed-chunk (C = ${CHUNK})`,
      run: (q: any, k: any, v: any, backend: string) =>
        tessera.mixedChunkAttention(q, k, v, { chunkSize: CHUNK, backend }),
      flops: (n: number) => HEADS * (4 * n * CHUNK * DIM + 4 * n * DIM * DIM),
    },
  ];
  const inputs = new Map([CHECK_LENGTH, ...LENGTHS].map((n) => [n, qkv(n)]));
  const rows: string[][] = [];
  for (const kernel of kernels) {
    const [q, k, v] = inputs.get(CHECK_LENGTH)!;
    const reference = (await kernel.run(q, k, v, "js")).data;
    const out = (await kernel.run(q, k, v, "wasm")).data;
    let worst = 0;
    for (let i = 0; i < out.length; i++) worst = Math.max(worst, Math.abs(out[i] - reference[i]));
    const cells = [kernel.name];
    for (const n of LENGTHS) {
      const [qn, kn, vn] = inputs.get(n)!;
      await kernel.run(qn, kn, vn, "wasm");
      let best = Infinity;
      for (let r = 1; r <= ROUNDS; r++) {
        const t0 = performance.now();
        await kernel.run(qn, kn, vn, "wasm");
        best = Math.min(best, performance.now() - t0);
        progress(`${kernel.name}, N = ${n}`.padEnd(32), r, ROUNDS);
      }
      cells.push(`${best.toFixed(1)} ms, ${(kernel.flops(n) / best / 1e6).toFixed(1)} GFLOP/s`);
    }
    cells.push(worst.toExponential(2));
    rows.push(cells);
  }
  const header = ["kernel", ...LENGTHS.map((n) => `N = ${n}`), "max |WASM − JS|"];
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const line = (cells: string[]) => "  " + cells.map((s, c) => s.padEnd(widths[c])).join("   ");
  console.log(line(header));
  for (const r of rows) console.log(line(r));
}
