/**
 * NaN and ±∞ in attention inputs, the same on every backend (README, "Guarantees"):
 *
 * - softmax attention: a NaN logit (NaN in q_i, in a visible k_j, or ∞ − ∞) makes row i NaN;
 *   a key past the causal diagonal is skipped; a key whose weight is exactly 0 (masked by −∞,
 *   or underflowed) contributes nothing, whatever its v holds; the additive mask is added to
 *   the logit (NaN + (−∞) is NaN, as in PyTorch); a row with no key at all is zeros;
 * - linear and mixed-chunk attention: sums carry NaN and ±∞ to every row that reads them; in
 *   the quadratic part a masked pair or a relu(·) = 0 weight contributes nothing.
 *
 * The expected rows come from these rules (which rows read which key), not from a backend.
 */
import assert from "node:assert/strict";
import {
  dispose, init, linearAttention, mixedChunkAttention, scaledDotProductAttention,
} from "../../src/mod.ts";
import type { Tensor } from "../../src/mod.ts";
import { testBackends } from "./_backends.ts";
import { skippable } from "../_skip.ts";
import { WEBGPU_SKIP } from "../_webgpu.ts";
import { selectKernels } from "../../src/backends/_select.ts";
import { ATTENTION } from "../../src/backends/_families.ts";

const N = 70, D = 8, CHUNK = 16;

/** [1, 1, N, D] with entries uniform in [lo, hi). */
function input(seed: number, lo = -1, hi = 1): Tensor {
  let s = seed;
  const data = Float32Array.from({ length: N * D }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return lo + (s / 2 ** 32) * (hi - lo);
  });
  return { data, shape: [1, 1, N, D] };
}

/** "N" for a row holding a NaN, "I" for ±∞ without NaN, "0" for all zeros, "." otherwise. */
function rowClasses(out: Tensor): string {
  let classes = "";
  for (let i = 0; i < N; i++) {
    const row = out.data.subarray(i * D, (i + 1) * D);
    classes += row.some(Number.isNaN) ? "N" : row.some((x) => !Number.isFinite(x)) ? "I" : row.every((x) => x === 0) ? "0" : ".";
  }
  return classes;
}

/** The expected classes: `bad` where `reads(i)`, `.` elsewhere. */
function expected(reads: (i: number) => boolean, bad = "N"): string {
  return Array.from({ length: N }, (_, i) => (reads(i) ? bad : ".")).join("");
}

/** Rows that do not read the poisoned entry match a clean run closely. */
function assertCleanRowsMatch(out: Tensor, clean: Tensor, classes: string) {
  for (let i = 0; i < N; i++) {
    if (classes[i] !== ".") continue;
    for (let e = 0; e < D; e++) {
      const [a, b] = [out.data[i * D + e], clean.data[i * D + e]];
      assert.ok(Math.abs(a - b) <= 1e-5 + 1e-4 * Math.abs(b), `row ${i}: ${a} vs clean ${b}`);
    }
  }
}

function poisoned(t: Tensor, row: number, value: number): Tensor {
  const data = t.data.slice();
  data[row * D + 3] = value;
  return { data, shape: t.shape };
}

const J = 40; // the poisoned row of q, k or v

testBackends("scaledDotProductAttention() propagates NaN by the rule, masked keys never matter", async (backend) => {
  const [q, k, v] = [input(1), input(2), input(3)];
  for (const causal of [false, true]) {
    const sees = (i: number) => !causal || i >= J;
    const clean = await scaledDotProductAttention(q, k, v, { causal, backend: "js" });
    const cases: [string, Tensor, Tensor, Tensor, string][] = [
      ["NaN in q", poisoned(q, J, NaN), k, v, expected((i) => i === J)],
      ["NaN in k", q, poisoned(k, J, NaN), v, expected(sees)],
      ["NaN in v", q, k, poisoned(v, J, NaN), expected(sees)],
      ["+∞ in v", q, k, poisoned(v, J, Infinity), expected(sees, "I")],
      ["+∞ in q", poisoned(q, J, Infinity), k, v, expected((i) => i === J)],
    ];
    for (const [label, qq, kk, vv, want] of cases) {
      const out = await scaledDotProductAttention(qq, kk, vv, { causal, backend });
      const got = rowClasses(out);
      assert.equal(got, want, `${label}, causal ${causal}`);
      assertCleanRowsMatch(out, clean, got);
    }
  }
});

testBackends("scaledDotProductAttention(): a −∞-masked key's NaN value never matters; NaN + (−∞) logits stay NaN", async (backend) => {
  const [q, k, v] = [poisoned(input(1), 9, NaN), input(2), poisoned(input(3), J, NaN)];
  const mask = { data: new Float32Array(N * N), shape: [1, 1, N, N] };
  for (let i = 0; i < N; i++) mask.data[i * N + J] = -Infinity; // nobody sees key J
  mask.data.fill(-Infinity, 9 * N, 10 * N); // row 9 (NaN query) sees nothing
  const out = await scaledDotProductAttention(q, k, v, { mask, backend });
  // The mask is added to the logits, as PyTorch adds a float mask: NaN + (−∞) is NaN, so row 9
  // is NaN, not zeros (causal masking, which skips keys, gives zeros: see the next test).
  assert.equal(rowClasses(out), expected((i) => i === 9));
  // A row with a NaN query and no visible key under causal alignment (Nq > Nk) is zeros.
  const short = { data: k.data.slice(0, 4 * D), shape: [1, 1, 4, D] };
  const noKeys = await scaledDotProductAttention(q, short, short, { causal: true, backend });
  assert.equal(rowClasses(noKeys).slice(0, N - 4), "0".repeat(N - 4));
});

testBackends("linearAttention() carries NaN to every row that reads it", async (backend) => {
  const [q, k, v] = [input(1), input(2), input(3)];
  for (const causal of [false, true]) {
    const reads = (i: number) => !causal || i >= J;
    for (const [label, qq, kk, vv, want] of [
      ["NaN in q", poisoned(q, J, NaN), k, v, expected((i) => i === J)],
      ["NaN in k", q, poisoned(k, J, NaN), v, expected(reads)],
      ["NaN in v", q, k, poisoned(v, J, NaN), expected(reads)],
      // elu+1 weights are positive: ∞ stays ∞ in the rows that read it, none of the others
      // (a causal row before J must not meet v_J through a zero weight: 0 · ∞ is NaN).
      ["∞ in v", q, k, poisoned(v, J, Infinity), expected(reads, "I")],
    ] as const) {
      const out = await linearAttention(qq, kk, vv, { causal, backend });
      assert.equal(rowClasses(out), want, `${label}, causal ${causal}`);
    }
  }
});

testBackends("mixedChunkAttention(): NaN reaches the rows of its chunk that see it and every later chunk", async (backend) => {
  // Positive q and k: every relu(q·k) > 0, so each visible pair has a nonzero weight.
  const [q, k, v] = [input(1, 0.1, 1), input(2, 0.1, 1), input(3)];
  const chunkOf = (i: number) => Math.floor(i / CHUNK);
  for (const causal of [false, true]) {
    // Local: same chunk (and i ≥ J when causal); global: later chunks (causal) or all rows.
    const reads = (i: number) =>
      causal ? (chunkOf(i) === chunkOf(J) && i >= J) || chunkOf(i) > chunkOf(J) : true;
    for (const [label, qq, kk, vv, want] of [
      ["NaN in q", poisoned(q, J, NaN), k, v, expected((i) => i === J)],
      ["NaN in k", q, poisoned(k, J, NaN), v, expected(reads)],
      ["NaN in v", q, k, poisoned(v, J, NaN), expected(reads)],
    ] as const) {
      const out = await mixedChunkAttention(qq, kk, vv, { chunkSize: CHUNK, causal, backend });
      assert.equal(rowClasses(out), want, `${label}, causal ${causal}`);
    }
  }
});

testBackends("mixedChunkAttention(): a relu(·) = 0 weight never meets a NaN value", async (backend) => {
  // q·k < 0 for key J only: its weight is 0 in every row, so its NaN value reaches the rows
  // only through the linear (global) part, which needs linQ/linK; without them, nothing.
  const [q, k] = [input(1, 0.1, 1), input(2, 0.1, 1)];
  const kk = { data: k.data.slice(), shape: k.shape };
  for (let d = 0; d < D; d++) kk.data[J * D + d] = -1;
  const v = poisoned(input(3), J, NaN);
  const linQ = { data: new Float32Array(N * 4), shape: [1, 1, N, 4] };
  const out = await mixedChunkAttention(q, kk, v, { chunkSize: CHUNK, causal: true, linQ, linK: linQ, backend });
  // linK is all zeros, so the state is 0 · NaN = NaN for every chunk after J's (a sum, as in a matmul).
  assert.equal(rowClasses(out), expected((i) => Math.floor(i / CHUNK) > Math.floor(J / CHUNK)));
});

Deno.test("NaN rows are the same bits on 1 and 2 WASM threads", async () => {
  const outs = [];
  for (const threads of [1, 2]) {
    await init({ threads });
    try {
      const [q, k, v] = [poisoned(input(1), 5, NaN), input(2), poisoned(input(3), J, NaN)];
      // 32 heads: over the size below which a call stays one task (MIN_PARALLEL_FLOPS).
      const big = (t: Tensor) => {
        const data = new Float32Array(32 * N * D);
        for (let h = 0; h < 32; h++) data.set(t.data, h * N * D);
        return { data, shape: [1, 32, N, D] };
      };
      outs.push((await scaledDotProductAttention(big(q), big(k), big(v), { causal: true, backend: "wasm" })).data);
    } finally {
      await dispose();
    }
  }
  assert.deepEqual(outs[1], outs[0]);
});

Deno.test(skippable("selectKernels() keeps a call with NaN or ±∞ inputs off WebGPU (WGSL promises no IEEE semantics)", WEBGPU_SKIP, async () => {
  await init({ threads: 1 });
  try {
    const finite = new Float32Array(8), nan = Float32Array.of(0, NaN), inf = Float32Array.of(-Infinity);
    assert.equal((await selectKernels(ATTENTION, "webgpu", { inputs: [finite, null] })).name, "webgpu");
    for (const bad of [nan, inf]) {
      assert.equal((await selectKernels(ATTENTION, "webgpu", { inputs: [finite, bad] })).name, "wasm");
    }
    assert.equal((await selectKernels(ATTENTION, "js", { inputs: [nan] })).name, "js");
  } finally {
    await dispose();
  }
}));
