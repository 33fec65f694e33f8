/**
 * `npm run demo`: a command-line report that exercises what Tessera can do, on the built bundle
 * (dist/tessera.js) exactly as a user imports it. Each area adds a section.
 *
 * @module
 */
// deno-lint-ignore-file no-explicit-any
import { attentionSection } from "./_demo_attention.ts";
import { diffusionSection } from "./_demo_diffusion.ts";
import { treesSection } from "./_demo_trees.ts";
const tessera: any = await import("../dist/tessera.js");

const bold = (s: string) => `\x1b[1m${s}\x1b[0m`;
const encoder = new TextEncoder();

/** Rewrites one status line in place: the visible progress of long steps. */
export function progress(label: string, done: number, total: number): void {
  const width = 24;
  const filled = Math.round((done / total) * width);
  const bar = "█".repeat(filled) + "·".repeat(width - filled);
  Deno.stdout.writeSync(encoder.encode(`\r  ${label} ${bar} ${done}/${total}`));
  if (done === total) Deno.stdout.writeSync(encoder.encode("\n"));
}

function random(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = (s / 2 ** 32) * 2 - 1;
  }
  return out;
}

async function runtimeSection() {
  console.log(bold("\nRuntime"));
  const info = await tessera.init();
  console.log(
    `  build ${info.wasmVariant}, ${info.threads} threads, SIMD ${info.simd}, relaxed SIMD ` +
      `${info.relaxedSimd}, shared memory ${info.sharedMemory}, WebGPU API ${info.webgpu}`,
  );
}

async function matmulSection() {
  console.log(bold("\nMatrix product (matmul)"));
  const n = 512;
  const a = { data: random(n * n, 1), shape: [n, n] };
  const b = { data: random(n * n, 2), shape: [n, n] };
  const reference = await tessera.matmul(a, b, { backend: "js" });
  const rounds = 10;
  let best = Infinity;
  let out: any;
  for (let i = 1; i <= rounds; i++) {
    const t0 = performance.now();
    out = await tessera.matmul(a, b, { backend: "wasm" });
    best = Math.min(best, performance.now() - t0);
    progress(`${n}×${n}×${n} on WASM`, i, rounds);
  }
  let err = 0;
  for (let i = 0; i < out.data.length; i++) {
    err = Math.max(err, Math.abs(out.data[i] - reference.data[i]));
  }
  console.log(
    `  ${(2 * n ** 3 / best / 1e6).toFixed(1)} GFLOP/s (best of ${rounds}), ` +
      `max |WASM − reference| = ${err.toExponential(2)}`,
  );
}

/** The sections, in order; each area appends its own. */
const kit = { tessera, progress, bold };
export const SECTIONS: Array<() => Promise<void>> = [
  runtimeSection,
  matmulSection,
  () => treesSection(kit),
  () => attentionSection(kit),
  () => diffusionSection(kit),
];

if (import.meta.main) {
  console.log(bold("Tessera demo"));
  for (const section of SECTIONS) await section();
  await tessera.dispose();
}
