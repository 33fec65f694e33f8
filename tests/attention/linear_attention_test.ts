import assert from "node:assert/strict";
import { linearAttention } from "../../src/attention/linear_attention.ts";
import type { Tensor } from "../../src/tensor.ts";
import { assertClose, assertRejectsNaming, naiveLinear, randomTensor } from "./_naive.ts";
import { randomQkv } from "./_conformance.ts";
import { testBackends } from "./_backends.ts";

testBackends(
  "linearAttention() matches the O(N²) definition for both maps and causal settings",
  async (backend, tolerance) => {
    // N = 150 spans several prefix-sum chunks plus a tail.
    const { q, k, v } = randomQkv([1, 2, 1, 150, 150, 8, 12], 61);
    for (const featureMap of ["elu+1", "relu"] as const) {
      for (const causal of [false, true]) {
        const out = await linearAttention(q, k, v, { causal, featureMap, backend });
        assert.deepEqual(out.shape, [1, 2, 150, 12]);
        assertClose(out.data, naiveLinear(q, k, v, { causal, featureMap }), tolerance);
      }
    }
  },
);

testBackends(
  "linearAttention() defaults to elu+1 and non-causal, and allows Nq != Nk",
  async (backend, tolerance) => {
    const { q, k, v } = randomQkv([2, 2, 2, 3, 11, 4, 4], 62);
    const out = await linearAttention(q, k, v, { backend });
    assertClose(out.data, naiveLinear(q, k, v), tolerance);
    const relu = await linearAttention(q, k, v, { featureMap: "relu", backend });
    assert.notDeepEqual(out.data, relu.data);
  },
);

testBackends(
  "linearAttention() causal row 0 returns the first value",
  async (backend, tolerance) => {
    const { q, k, v } = randomQkv([1, 1, 1, 4, 4, 3, 2], 63);
    const out = await linearAttention(q, k, v, { causal: true, backend });
    assertClose(out.data.subarray(0, 2), v.data.subarray(0, 2), tolerance);
  },
);

Deno.test("linearAttention() rejects bad shapes and options naming the argument", async () => {
  const { q, k, v } = randomQkv([1, 2, 1, 3, 4, 4, 4], 64);
  const lin = (opts: unknown, kk: Tensor = k, vv: Tensor = v) =>
    linearAttention(q, kk, vv, opts as never);
  await assertRejectsNaming(() => lin({ causal: true }), RangeError, "k");
  await assertRejectsNaming(() => lin({ featureMap: "softmax" }), RangeError, "opts.featureMap");
  await assertRejectsNaming(() => lin({ causal: "yes" }), TypeError, "opts.causal");
  await assertRejectsNaming(() => lin({ chunkSize: 4 }), RangeError, "chunkSize");
  await assertRejectsNaming(() => lin({ backend: "tpu" }), RangeError, "opts.backend");
  await assertRejectsNaming(() => lin({}, randomTensor([1, 1, 4, 5], 1)), RangeError, "k");
  await assertRejectsNaming(() => lin({}, k, randomTensor([1, 1, 3, 4], 1)), RangeError, "v");
});

testBackends("linearAttention() writes into a lent out the bits of a fresh output", async (backend) => {
  const { q, k, v } = randomQkv([1, 2, 1, 150, 150, 8, 12], 63);
  for (const causal of [false, true]) {
    const fresh = await linearAttention(q, k, v, { causal, backend });
    const out = new Float32Array(2 * 150 * 12).fill(NaN);
    const lent = await linearAttention(q, k, v, { causal, backend, out });
    assert.equal(lent.data, out);
    assert.deepEqual(new Uint32Array(out.buffer), new Uint32Array(fresh.data.buffer));
  }
  const room = new Float32Array(4000);
  const vIn = { data: room.subarray(0, v.data.length), shape: v.shape };
  await assert.rejects(() => linearAttention(q, k, vIn, { out: room.subarray(400) }), {
    name: "RangeError",
    message: /"opts.out" to share no memory with "v"/,
  });
});
