/**
 * The short memory check of `npm test` (the long one is `npm run soak`): a few thousand calls of
 * a family, after warm-up, must not grow the live JS heap after a full GC. The JS heap is the
 * measure here, not the resident set: after a full collection it is steady to a few KiB from run
 * to run, where the resident set moves by MiBs with V8's young-generation sizing and the workers'
 * uncollected garbage. It catches what the calling thread keeps per call, e.g. the pool's old
 * `Promise.race` against a worker's never-settling loss, which kept ~600 bytes per pooled call
 * (≈ 1.8 MiB over these 3,000 calls).
 */
import assert from "node:assert/strict";

const script = new URL("./_heap_check.ts", import.meta.url).pathname;
const CALLS = 3000;
/** Far above the noise (< 50 KiB measured), far below what a per-call leak of 200 bytes adds. */
const LIMIT = 512 * 1024;

async function soak(name: string) {
  const child = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--v8-flags=--expose-gc", script, name, `${CALLS}`],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(child.stderr);
  assert.equal(child.code, 0, stderr);
  return JSON.parse(new TextDecoder().decode(child.stdout).trim().split("\n").at(-1)!);
}

for (
  const name of [
    "matmul 128³ (workers)",
    "sample (GaussianMixture denoiser, heun, batch 16)",
  ]
) {
  Deno.test(`${name}: ${CALLS} calls keep no JS heap`, async () => {
    const result = await soak(name);
    const kib = (b: number) => (b / 1024).toFixed(0);
    assert.ok(
      result.growth < LIMIT,
      `the JS heap after GC grew by ${kib(result.growth)} KiB over ${result.calls} calls (from ${
        kib(result.baseline.bytes)
      } KiB; marks ${result.marks.map((m: { bytes: number }) => kib(m.bytes)).join(" ")} KiB)`,
    );
  });
}
