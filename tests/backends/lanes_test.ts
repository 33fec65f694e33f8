/**
 * How split calls divide their items between this thread and the workers (src/backends/wasm/
 * _lanes.ts), and the matmul's rows where a page's thread takes a lane (pageLanes).
 */
import assert from "node:assert/strict";
import { CallerShare } from "../../src/backends/wasm/_lanes.ts";
import { pageLanes } from "../../src/backends/wasm/matmul.ts";

Deno.test("CallerShare: an even share until it has timings, then one that ends with the workers", () => {
  const share = new CallerShare();
  assert.equal(share.fraction(2, 1e8, 256), 0.5);
  assert.equal(share.fraction(4, 1e8, 256), 0.25);
  // This thread: 256 pages in 3 ms, then 5e7 flops in 2.5 ms; the worker 5e7 flops in 2.5 ms.
  share.record(3, 256, [5.5, 2.5], [5e7, 5e7]);
  // own + a·C = (1 − a)·C with C = 5 ms: a = (5 − 3) / 10.
  assert.ok(Math.abs(share.fraction(2, 1e8, 256) - 0.2) < 1e-12);
  // Three workers: own + a·C = (1 − a)·C / 3, so a = (C/3 − own) / (C + C/3) < 0: the own work
  // outlasts a worker's share, and this thread keeps an eighth of an even share.
  assert.equal(share.fraction(4, 1e8, 256), 0.25 / 8);
  // No own work: an even share at most.
  assert.equal(share.fraction(2, 1e8, 0), 0.5);
  // A later call's timings count half.
  share.record(1.5, 256, [4, 2.5], [5e7, 5e7]);
  const perPage = (3 / 256 + 1.5 / 256) / 2;
  assert.ok(Math.abs(share.fraction(2, 1e8, 256) - (5 - 256 * perPage) / 10) < 1e-12);
  // Without the workers' times (NaN), this thread's own lane gives the kernel's speed.
  const alone = new CallerShare();
  alone.record(1, 100, [3, NaN], [1e8, 1e8]);
  assert.ok(Math.abs(alone.fraction(2, 1e8, 100) - (2 - 1) / 4) < 1e-12);
});

Deno.test("pageLanes: this thread's rows first, the rest even in multiples of 4, every row once", () => {
  for (const [m, mine, threads] of [[512, 100, 2], [512, 4, 3], [130, 28, 4], [10, 4, 2]]) {
    const { shares, ranges } = pageLanes(m, mine, threads);
    assert.equal(shares, threads);
    assert.equal(ranges.length, threads);
    assert.deepEqual(ranges[0].rows, [0, mine]);
    let next = 0;
    ranges.forEach(({ rows: [r0, r1], share }, i) => {
      assert.equal(share, i);
      assert.equal(r0, next, `m ${m}: range ${i} starts where the last ended`);
      if (i > 0 && r1 < m) assert.equal((r1 - r0) % 4, 0);
      next = r1;
    });
    assert.equal(next, m);
    // In pieces (a cold runtime): task i in lane i mod threads, each lane's rows in order.
    for (const pieces of [2, 3]) {
      const cut = pageLanes(m, mine, threads, pieces).ranges;
      assert.equal(cut.length, threads * pieces);
      for (let lane = 0; lane < threads; lane++) {
        const own = cut.filter((_, i) => i % threads === lane);
        assert.ok(own.every(({ share }) => share === lane));
        const [lo, hi] = ranges[lane].rows;
        let at = lo;
        for (const { rows: [r0, r1] } of own) {
          assert.equal(r0, at, `m ${m}, ${pieces} pieces: lane ${lane}'s rows in order`);
          at = r1;
        }
        assert.equal(at, hi);
      }
    }
  }
});
