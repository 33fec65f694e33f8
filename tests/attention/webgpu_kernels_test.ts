/**
 * The WGSL attention kernels: the shared conformance suite plus what only the GPU path has
 * (value dimensions over one 128-column pass, head groups for big chunk states). They run
 * wherever Deno (or a browser) offers a WebGPU adapter, software ones included; elsewhere they
 * are registered as skipped, with the reason. Sizes stay small: a software adapter runs at ~0.3 GFLOP/s.
 */
import assert from "node:assert/strict";
import { gpuDevice } from "../../src/runtime/_gpu.ts";
import type { FlashForwardArgs } from "../../src/backends/attention.ts";
import {
  flashDispatch,
  type FlashShader,
  webgpuAttention,
} from "../../src/backends/webgpu/attention.ts";
import {
  attentionConformance,
  flashArgs,
  linearArgs,
  mixedArgs,
  randomQkv,
} from "./_conformance.ts";
import { skippable } from "../_skip.ts";
import { WEBGPU_SKIP } from "../_webgpu.ts";
import {
  assertClose,
  assertSameBits,
  naiveMixedChunk,
  naiveSoftmax,
  randomTensor,
} from "./_naive.ts";

const device = WEBGPU_SKIP === null ? await gpuDevice() : null;
// float32 throughout; the adapter's exp2 and log are within a few ulp.
const tolerance = { atol: 2e-5, rtol: 2e-4 };

attentionConformance({
  label: "webgpu",
  setup: () => Promise.resolve(webgpuAttention(device!)),
  tolerance,
  skip: WEBGPU_SKIP,
});

Deno.test(skippable("webgpu flashForward() and mixedChunkForward() cover Dv over one 128-column pass", WEBGPU_SKIP, async () => {
  const kernels = webgpuAttention(device!);
  const { q, k, v } = randomQkv([1, 2, 1, 37, 45, 16, 200], 61);
  for (const causal of [false, true]) {
    const args = flashArgs(q, k, v, { causal });
    await kernels.flashForward(args);
    const expected = naiveSoftmax(q, k, v, { causal });
    assertClose(args.out, expected.out, { ...tolerance, label: `flash causal ${causal}` });
    assertClose(args.lse!, expected.lse, { ...tolerance, label: `lse causal ${causal}` });
  }
  const square = randomQkv([1, 2, 1, 40, 40, 16, 150], 62);
  const opts = { chunkSize: 16, causal: true };
  const mixed = mixedArgs(square.q, square.k, square.v, opts);
  await kernels.mixedChunkForward(mixed);
  const expected = naiveMixedChunk(square.q, square.k, square.v, opts);
  const size = Math.max(1, ...expected.map(Math.abs));
  assertClose(mixed.out, expected, { atol: tolerance.atol * size, rtol: tolerance.rtol });
}));

Deno.test(skippable("webgpu linear and mixed-chunk states split into head groups give the same bits", WEBGPU_SKIP, async () => {
  const whole = webgpuAttention(device!);
  const grouped = webgpuAttention(device!, { stateBudget: 1 }); // one query head per group
  const { q, k, v } = randomQkv([2, 4, 2, 50, 50, 8, 12], 63);
  const linQ = randomTensor([2, 4, 50, 6], 64), linK = randomTensor([2, 2, 50, 6], 65);
  for (const causal of [false, true]) {
    const mixedOpts = { chunkSize: 16, causal, linQ, linK };
    const [a, b] = [mixedArgs(q, k, v, mixedOpts), mixedArgs(q, k, v, mixedOpts)];
    await whole.mixedChunkForward(a);
    await grouped.mixedChunkForward(b);
    assertSameBits(b.out, a.out, `mixed causal ${causal}`);
    const [c, d] = [linearArgs(q, k, v, { causal }), linearArgs(q, k, v, { causal })];
    await whole.linearForward(c);
    await grouped.linearForward(d, 1, 6); // items 1..6 only
    assertSameBits(d.out.subarray(50 * 12, 7 * 50 * 12), c.out.subarray(50 * 12, 7 * 50 * 12));
    assert.ok(d.out.subarray(0, 50 * 12).every(Number.isNaN), "item 0 is left untouched");
  }
}));

Deno.test(skippable("webgpu wide flash shader matches the definition and the general shader over many tiles", WEBGPU_SKIP, async () => {
  const general = webgpuAttention(device!, { flashShader: "general" });
  const wide = webgpuAttention(device!);
  const shaderOf = (args: FlashForwardArgs, shader: FlashShader = "auto") => {
    const buffers: GPUBuffer[] = [];
    const track = (buffer: GPUBuffer) => (buffers.push(buffer), buffer);
    const call = flashDispatch(device!, args, 0, 1, track, shader);
    buffers.forEach((buffer) => buffer.destroy());
    return call.shader;
  };
  for (const [d, dv] of [[62, 32], [64, 132]]) {
    const odd = randomQkv([1, 1, 1, 8, 8, d, dv], 73);
    assert.equal(shaderOf(flashArgs(odd.q, odd.k, odd.v)), "general", `D = ${d}, Dv = ${dv}`);
  }
  // D = 64, Dv = 32: one group of columns; D = 128, Dv = 100: two, the second partly used.
  for (const [d, dv] of [[64, 32], [128, 100]]) {
    // Grouped heads, Nq != Nk, four key tiles and a partial one, a mask with hidden keys and
    // one wholly hidden row; logits spread so each tile raises some rows' maxima.
    const { q, k, v } = randomQkv([1, 4, 2, 200, 230, d, dv], 71, 3);
    const mask = randomTensor([1, 1, 200, 230], 72, 4);
    mask.data.forEach((x, i) => {
      if (x > 3 || Math.floor(i / 230) === 17) mask.data[i] = -Infinity;
    });
    assert.equal(shaderOf(flashArgs(q, k, v, { mask })), "wide");
    for (const causal of [false, true]) {
      const [a, c] = [flashArgs(q, k, v, { causal, mask }), flashArgs(q, k, v, { causal, mask })];
      await wide.flashForward(a);
      await general.flashForward(c);
      const expected = naiveSoftmax(q, k, v, { causal, mask });
      const label = `D = ${d}, Dv = ${dv}, causal ${causal}`;
      assertClose(a.out, expected.out, { ...tolerance, label });
      assertClose(a.lse!, expected.lse, { ...tolerance, label: `${label} lse` });
      assertClose(a.out, c.out, { ...tolerance, label: `${label} against general` });
      assert.equal(a.lse![17], -Infinity);
      // Items 1 .. 2 of 4 (one per head): the other rows stay untouched.
      const part = flashArgs(q, k, v, { causal, mask, queryBlock: 200 });
      await wide.flashForward(part, 1, 3);
      const [from, to] = [200 * dv, 600 * dv];
      assertSameBits(part.out.subarray(from, to), a.out.subarray(from, to));
      assert.ok(part.out.subarray(0, from).every(Number.isNaN), `${label}: item 0 untouched`);
    }
  }
}));
