import assert from "node:assert/strict";
import { scaledDotProductAttention } from "../../src/attention/scaled_dot_product_attention.ts";
import { scaledDotProductAttentionWithLse } from "../../src/attention/scaled_dot_product_attention_with_lse.ts";
import type { Tensor } from "../../src/tensor.ts";
import { assertClose, assertRejectsNaming, naiveSoftmax, randomTensor } from "./_naive.ts";
import { randomQkv } from "./_conformance.ts";

Deno.test("scaledDotProductAttentionWithLse() returns the output of scaledDotProductAttention() and the naive LSE", async () => {
  const { q, k, v } = randomQkv([2, 2, 1, 12, 30, 8, 8], 12, 2);
  const mask = randomTensor([2, 1, 1, 30], 13);
  const { output, logSumExp } = await scaledDotProductAttentionWithLse(q, k, v, {
    mask,
    causal: true,
  });
  assert.deepEqual(logSumExp.shape, [2, 2, 12]);
  assert.deepEqual(
    output.data,
    (await scaledDotProductAttention(q, k, v, { mask, causal: true })).data,
  );
  assertClose(logSumExp.data, naiveSoftmax(q, k, v, { mask, causal: true }).lse, {
    atol: 2e-6,
    rtol: 2e-6,
  });
});

Deno.test("scaledDotProductAttentionWithLse() merges attention over split keys exactly", async () => {
  const { q, k, v } = randomQkv([1, 1, 1, 6, 20, 8, 4], 14);
  const half = (x: Tensor, from: number) => ({
    data: x.data.slice(from * x.shape[3], (from + 10) * x.shape[3]),
    shape: [1, 1, 10, x.shape[3]],
  });
  const a = await scaledDotProductAttentionWithLse(q, half(k, 0), half(v, 0));
  const b = await scaledDotProductAttentionWithLse(q, half(k, 10), half(v, 10));
  const whole = await scaledDotProductAttentionWithLse(q, k, v);
  const merged = new Float32Array(6 * 4);
  for (let i = 0; i < 6; i++) {
    const la = a.logSumExp.data[i], lb = b.logSumExp.data[i];
    const l = Math.max(la, lb) +
      Math.log(Math.exp(la - Math.max(la, lb)) + Math.exp(lb - Math.max(la, lb)));
    assertClose([l], [whole.logSumExp.data[i]], { atol: 1e-5, rtol: 1e-6 });
    for (let e = 0; e < 4; e++) {
      merged[i * 4 + e] = Math.exp(la - l) * a.output.data[i * 4 + e] +
        Math.exp(lb - l) * b.output.data[i * 4 + e];
    }
  }
  assertClose(merged, whole.output.data, { atol: 1e-5, rtol: 1e-5 });
});

Deno.test("scaledDotProductAttentionWithLse() gives -Infinity for fully masked rows and no keys", async () => {
  const q = randomTensor([1, 1, 3, 4], 1),
    k = randomTensor([1, 1, 2, 4], 2),
    v = randomTensor([1, 1, 2, 2], 3);
  const { output, logSumExp } = await scaledDotProductAttentionWithLse(q, k, v, { causal: true });
  assert.equal(logSumExp.data[0], -Infinity);
  assert.deepEqual([...output.data.subarray(0, 2)], [0, 0]);
  assert.ok(Number.isFinite(logSumExp.data[1]) && Number.isFinite(logSumExp.data[2]));
  const none = await scaledDotProductAttentionWithLse(
    q,
    randomTensor([1, 1, 0, 4], 1),
    randomTensor([1, 1, 0, 2], 1),
  );
  assert.deepEqual([...none.logSumExp.data], [-Infinity, -Infinity, -Infinity]);
  assert.deepEqual([...none.output.data], [0, 0, 0, 0, 0, 0]);
  await assertRejectsNaming(
    () => scaledDotProductAttentionWithLse(q, k, v, { lse: true } as never),
    RangeError,
    "lse",
  );
});
