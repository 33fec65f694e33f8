/**
 * How split calls divide their items between this thread and the workers (src/backends/wasm/
 * _lanes.ts), and the matmul's rows where a page's thread takes a lane (pageLanes).
 */
import assert from "node:assert/strict";
import { CallerShare, FreshFaults, SplitPayoff } from "../../src/backends/wasm/_lanes.ts";
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

Deno.test("FreshFaults: a worker takes the faults once this thread's fresh pages are seen to fault, but for every 16th call", () => {
  const faults = new FreshFaults();
  assert.equal(faults.toWorker(), false, "nothing known yet: this thread touches them");
  faults.record(0.2, 1024); // mapped already: 0.2 µs a page
  assert.equal(faults.toWorker(), false);
  faults.record(23.8, 1024); // faulting: 23 µs a page, blended to ~12
  const picks = Array.from({ length: 32 }, () => faults.toWorker());
  assert.deepEqual(picks.map((p, i) => p ? -1 : i).filter((i) => i >= 0), [15, 31]);
  // A probe that finds the pages mapped again brings this thread back.
  faults.record(0, 1024);
  faults.record(0, 1024);
  faults.record(0, 1024);
  assert.equal(faults.toWorker(), false);
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

Deno.test("SplitPayoff: a split that outlasts one lane's pace raises the bar to twice its size, a clear gain lowers it, probes below it", () => {
  const payoff = new SplitPayoff(1 << 16, 1 << 22);
  assert.equal(payoff.minCells, 1 << 16);
  assert.ok(payoff.splits(1 << 16) && payoff.splits(1 << 20));
  // This lane ran 14 of 28 items in 1 ms: alone it would have taken 2 ms; the call took 1.1.
  payoff.record(1 << 18, 1.1, 1, 14, 28);
  assert.equal(payoff.minCells, 1 << 16);
  // The worker started late: this lane ran 26 of 28 items in 2.6 ms (2.8 alone), the call 3.5.
  payoff.record(1 << 18, 3.5, 2.6, 26, 28);
  assert.equal(payoff.minCells, 1 << 19);
  // A smaller loss does not lower the bar; a gain between 0.75 and 1 leaves it.
  payoff.record(1 << 17, 3.5, 2.6, 26, 28);
  assert.equal(payoff.minCells, 1 << 19);
  payoff.record(1 << 20, 1.9, 1, 14, 28);
  assert.equal(payoff.minCells, 1 << 19);
  // Clear gains halve it, down to the floor.
  for (let i = 0; i < 5; i++) payoff.record(1 << 20, 1.2, 1, 14, 28);
  assert.equal(payoff.minCells, 1 << 16);
  // Never above the ceiling; calls without this lane's share are ignored.
  payoff.record(1 << 22, 100, 2, 28, 28);
  assert.equal(payoff.minCells, 1 << 22);
  payoff.record(1 << 18, 100, 0, 0, 28);
  payoff.record(1 << 18, NaN, 1, 14, 28);
  assert.equal(payoff.minCells, 1 << 22);
  // Below the bar every 8th call probes; a probe that loses doubles the interval.
  const probes = (calls: number) =>
    Array.from({ length: calls }, () => payoff.splits(1 << 18)).flatMap((s, i) => s ? [i] : []);
  assert.deepEqual(probes(16), [7, 15]);
  payoff.record(1 << 18, 3, 1, 14, 28);
  assert.deepEqual(probes(32), [15, 31]);
  payoff.record(1 << 18, 3, 1, 14, 28);
  assert.equal(payoff.minCells, 1 << 22);
  assert.deepEqual(probes(32), [31]);
  // A probe that pays halves the bar and brings the interval back to 8.
  payoff.record(1 << 18, 1.2, 1, 14, 28);
  assert.equal(payoff.minCells, 1 << 21);
  assert.deepEqual(probes(16), [7, 15]);
});
