import assert from "node:assert/strict";
import { drawUniform, Rng, streamKey } from "../src/_random.ts";

Deno.test("Rng is reproducible for a seed and differs across seeds and streams", () => {
  const a = new Rng(42), b = new Rng(42), c = new Rng(43), d = new Rng(42, 1);
  const xs = Array.from({ length: 8 }, () => a.nextU32());
  assert.deepEqual(xs, Array.from({ length: 8 }, () => b.nextU32()));
  assert.notDeepEqual(xs, Array.from({ length: 8 }, () => c.nextU32()));
  assert.notDeepEqual(xs, Array.from({ length: 8 }, () => d.nextU32()));
});

Deno.test("drawUniform() has the moments of U(0, 1)", () => {
  const key = streamKey(7, 3);
  let sum = 0, sq = 0;
  const n = 200_000;
  for (let i = 0; i < n; i++) {
    const u = drawUniform(key, i);
    assert.ok(u >= 0 && u < 1);
    sum += u;
    sq += u * u;
  }
  const mean = sum / n, variance = sq / n - mean * mean;
  assert.ok(Math.abs(mean - 0.5) < 0.003, `mean ${mean}`);
  assert.ok(Math.abs(variance - 1 / 12) < 0.002, `variance ${variance}`);
});

Deno.test("Rng.nextInt() covers [0, n) evenly and sampleIndices() is distinct and sorted", () => {
  const rng = new Rng(1);
  const counts = new Array(5).fill(0);
  for (let i = 0; i < 50_000; i++) counts[rng.nextInt(5)]++;
  for (const c of counts) assert.ok(Math.abs(c - 10_000) < 400, `count ${c}`);
  const s = rng.sampleIndices(100, 30);
  assert.equal(new Set(s).size, 30);
  for (let i = 1; i < s.length; i++) assert.ok(s[i] > s[i - 1]);
});
