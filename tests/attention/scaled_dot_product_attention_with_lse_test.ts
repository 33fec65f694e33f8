import assert from "node:assert/strict";
import { scaledDotProductAttention } from "../../src/attention/scaled_dot_product_attention.ts";
import { scaledDotProductAttentionWithLse } from "../../src/attention/scaled_dot_product_attention_with_lse.ts";
import type { Tensor } from "../../src/tensor.ts";
import { assertClose, assertRejectsNaming, naiveSoftmax, randomTensor } from "./_naive.ts";
import { randomQkv } from "./_conformance.ts";
import { testBackends } from "./_backends.ts";

testBackends(
  "scaledDotProductAttentionWithLse() returns scaledDotProductAttention()'s output and the naive LSE",
  async (backend, tolerance) => {
    const { q, k, v } = randomQkv([2, 2, 1, 12, 30, 8, 8], 12, 2);
    const mask = randomTensor([2, 1, 1, 30], 13);
    const opts = { mask, causal: true, backend };
    const { output, logSumExp } = await scaledDotProductAttentionWithLse(q, k, v, opts);
    assert.deepEqual(logSumExp.shape, [2, 2, 12]);
    assert.deepEqual(output.data, (await scaledDotProductAttention(q, k, v, opts)).data);
    assertClose(logSumExp.data, naiveSoftmax(q, k, v, opts).lse, tolerance);
  },
);

testBackends(
  "scaledDotProductAttentionWithLse() merges attention over split keys exactly",
  async (backend, tolerance) => {
    const { q, k, v } = randomQkv([1, 1, 1, 6, 20, 8, 4], 14);
    const half = (x: Tensor, from: number) => ({
      data: x.data.slice(from * x.shape[3], (from + 10) * x.shape[3]),
      shape: [1, 1, 10, x.shape[3]],
    });
    const a = await scaledDotProductAttentionWithLse(q, half(k, 0), half(v, 0), { backend });
    const b = await scaledDotProductAttentionWithLse(q, half(k, 10), half(v, 10), { backend });
    const whole = await scaledDotProductAttentionWithLse(q, k, v, { backend });
    const merged = new Float32Array(6 * 4);
    for (let i = 0; i < 6; i++) {
      const la = a.logSumExp.data[i], lb = b.logSumExp.data[i], top = Math.max(la, lb);
      const l = top + Math.log(Math.exp(la - top) + Math.exp(lb - top));
      assertClose([l], [whole.logSumExp.data[i]], tolerance);
      for (let e = 0; e < 4; e++) {
        merged[i * 4 + e] = Math.exp(la - l) * a.output.data[i * 4 + e] +
          Math.exp(lb - l) * b.output.data[i * 4 + e];
      }
    }
    assertClose(merged, whole.output.data, tolerance);
  },
);

testBackends(
  "scaledDotProductAttentionWithLse() gives -Infinity for fully masked rows and no keys",
  async (backend) => {
    const q = randomTensor([1, 1, 3, 4], 1), k = randomTensor([1, 1, 2, 4], 2);
    const v = randomTensor([1, 1, 2, 2], 3);
    const { output, logSumExp } = await scaledDotProductAttentionWithLse(q, k, v, {
      causal: true,
      backend,
    });
    assert.equal(logSumExp.data[0], -Infinity);
    assert.deepEqual([...output.data.subarray(0, 2)], [0, 0]);
    assert.ok(Number.isFinite(logSumExp.data[1]) && Number.isFinite(logSumExp.data[2]));
    const none = await scaledDotProductAttentionWithLse(
      q,
      randomTensor([1, 1, 0, 4], 1),
      randomTensor([1, 1, 0, 2], 1),
      { backend },
    );
    assert.deepEqual([...none.logSumExp.data], [-Infinity, -Infinity, -Infinity]);
    assert.deepEqual([...none.output.data], [0, 0, 0, 0, 0, 0]);
  },
);

Deno.test("scaledDotProductAttentionWithLse() rejects unknown options", async () => {
  const q = randomTensor([1, 1, 3, 4], 1), k = randomTensor([1, 1, 2, 4], 2);
  const v = randomTensor([1, 1, 2, 2], 3);
  await assertRejectsNaming(
    () => scaledDotProductAttentionWithLse(q, k, v, { lse: true } as never),
    RangeError,
    "lse",
  );
});

testBackends("scaledDotProductAttentionWithLse() writes its output into a lent out", async (backend) => {
  const { q, k, v } = randomQkv([2, 2, 1, 12, 30, 8, 8], 14, 2);
  const fresh = await scaledDotProductAttentionWithLse(q, k, v, { causal: true, backend });
  const out = new Float32Array(2 * 2 * 12 * 8).fill(NaN);
  const lent = await scaledDotProductAttentionWithLse(q, k, v, { causal: true, backend, out });
  assert.equal(lent.output.data, out);
  assert.deepEqual(new Uint32Array(out.buffer), new Uint32Array(fresh.output.data.buffer));
  assert.deepEqual(lent.logSumExp.data, fresh.logSumExp.data);
});
