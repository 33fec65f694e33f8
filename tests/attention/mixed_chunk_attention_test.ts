import assert from "node:assert/strict";
import { mixedChunkAttention } from "../../src/attention/mixed_chunk_attention.ts";
import type { Tensor } from "../../src/tensor.ts";
import { assertClose, assertRejectsNaming, naiveMixedChunk, randomTensor } from "./_naive.ts";
import { randomQkv } from "./_conformance.ts";
import { testBackends } from "./_backends.ts";

testBackends(
  "mixedChunkAttention() matches the definition for both causal settings",
  async (backend, tolerance) => {
    const close = { atol: 10 * tolerance.atol, rtol: tolerance.rtol };
    const { q, k, v } = randomQkv([2, 2, 1, 37, 37, 8, 6], 71);
    const linQ = randomTensor([2, 2, 37, 5], 72), linK = randomTensor([2, 1, 37, 5], 73);
    for (const causal of [false, true]) {
      for (const chunkSize of [1, 8, 37, 64]) {
        const out = await mixedChunkAttention(q, k, v, { chunkSize, causal, linQ, linK, backend });
        assert.deepEqual(out.shape, [2, 2, 37, 6]);
        assertClose(out.data, naiveMixedChunk(q, k, v, { chunkSize, causal, linQ, linK }), close);
        const shared = await mixedChunkAttention(q, k, v, { chunkSize, causal, backend });
        assertClose(shared.data, naiveMixedChunk(q, k, v, { chunkSize, causal }), close);
      }
    }
  },
);

testBackends(
  "mixedChunkAttention() with one chunk and causal is pure relu² attention over j <= i",
  async (backend, tolerance) => {
    const close = { atol: 10 * tolerance.atol, rtol: tolerance.rtol };
    const { q, k, v } = randomQkv([1, 1, 1, 9, 9, 4, 3], 74, 2);
    const out = await mixedChunkAttention(q, k, v, { chunkSize: 9, causal: true, backend });
    const expected = new Float32Array(9 * 3);
    for (let i = 0; i < 9; i++) {
      for (let j = 0; j <= i; j++) {
        let dot = 0;
        for (let d = 0; d < 4; d++) dot += q.data[i * 4 + d] * k.data[j * 4 + d];
        const w = Math.max(0, dot / 9) ** 2;
        for (let e = 0; e < 3; e++) expected[i * 3 + e] += w * v.data[j * 3 + e];
      }
    }
    assertClose(out.data, expected, close);
  },
);

testBackends(
  "mixedChunkAttention() applies a broadcast in-chunk bias",
  async (backend, tolerance) => {
    const close = { atol: 10 * tolerance.atol, rtol: tolerance.rtol };
    const { q, k, v } = randomQkv([1, 2, 2, 20, 20, 4, 4], 75);
    const bias = randomTensor([6, 6], 76, 0.3);
    bias.data[1] = -Infinity;
    for (const causal of [false, true]) {
      const out = await mixedChunkAttention(q, k, v, { chunkSize: 6, causal, bias, backend });
      assertClose(out.data, naiveMixedChunk(q, k, v, { chunkSize: 6, causal, bias }), close);
      assert.ok(out.data.every(Number.isFinite));
    }
  },
);

Deno.test("mixedChunkAttention() rejects bad shapes and options naming the argument", async () => {
  const { q, k, v } = randomQkv([1, 2, 1, 6, 6, 4, 4], 77);
  const mix = (opts: unknown, kk: Tensor = k) => mixedChunkAttention(q, kk, v, opts as never);
  await assertRejectsNaming(() => mix(undefined), TypeError, "opts");
  await assertRejectsNaming(() => mix({}), TypeError, "opts.chunkSize");
  await assertRejectsNaming(() => mix({ chunkSize: 0 }), RangeError, "opts.chunkSize");
  await assertRejectsNaming(() => mix({ chunkSize: 2.5 }), TypeError, "opts.chunkSize");
  await assertRejectsNaming(() => mix({ chunkSize: 2, size: 3 }), RangeError, "size");
  await assertRejectsNaming(() => mix({ chunkSize: 2, causal: null }), TypeError, "opts.causal");
  await assertRejectsNaming(
    () => mix({ chunkSize: 2 }, randomTensor([1, 1, 5, 4], 1)),
    RangeError,
    "k",
  );
  await assertRejectsNaming(
    () => mix({ chunkSize: 2, linQ: randomTensor([1, 1, 6, 4], 1) }),
    RangeError,
    "opts.linQ",
  );
  const linQ = randomTensor([1, 2, 6, 3], 1);
  await assertRejectsNaming(() => mix({ chunkSize: 2, linQ }), RangeError, "opts.linK");
  await assertRejectsNaming(() => mix({ chunkSize: 2, linK: [] }), TypeError, "opts.linK.data");
  await assertRejectsNaming(
    () => mix({ chunkSize: 2, bias: randomTensor([6, 6], 1) }),
    RangeError,
    "opts.bias",
  );
});

testBackends("mixedChunkAttention() writes into a lent out the bits of a fresh output", async (backend) => {
  const { q, k, v } = randomQkv([2, 2, 1, 37, 37, 8, 6], 74);
  const linQ = randomTensor([2, 2, 37, 5], 75), linK = randomTensor([2, 1, 37, 5], 76);
  for (const causal of [false, true]) {
    const opts = { chunkSize: 8, causal, linQ, linK, backend };
    const fresh = await mixedChunkAttention(q, k, v, opts);
    const out = new Float32Array(2 * 2 * 37 * 6).fill(NaN);
    const lent = await mixedChunkAttention(q, k, v, { ...opts, out });
    assert.equal(lent.data, out);
    assert.deepEqual(new Uint32Array(out.buffer), new Uint32Array(fresh.data.buffer));
  }
  const room = new Float32Array(1000);
  const linQIn = { data: room.subarray(0, 740), shape: linQ.shape };
  const into = (out: Float32Array) =>
    mixedChunkAttention(q, k, v, { chunkSize: 8, linQ: linQIn, linK, out });
  await assert.rejects(
    () => into(room.subarray(100, 988)),
    { name: "RangeError", message: /"opts.out" to share no memory with "opts.linQ"/ },
  );
});
