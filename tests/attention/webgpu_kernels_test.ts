/**
 * The WGSL attention kernels: the shared conformance suite plus what only the GPU path has
 * (value dimensions over one 128-column pass, head groups for big chunk states). They run
 * wherever Deno (or a browser) offers a WebGPU adapter, software ones included; elsewhere they
 * are registered as skipped, with the reason. Sizes stay small: a software adapter runs at ~0.3 GFLOP/s.
 */
import assert from "node:assert/strict";
import { gpuDevice } from "../../src/runtime/_gpu.ts";
import { webgpuAttention } from "../../src/backends/webgpu/attention.ts";
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
