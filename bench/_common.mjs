// Timing helpers of every benchmark: the Chromium page (bench/browser/page.js, served beside
// it), the Node runner (bench/node_bench.mjs) and, through bench/_harness.ts, the Deno suites.

/** Deterministic uniform(-1, 1) float32 data (the same stream as bench/_harness.ts). */
export function random(n, seed) {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = (s / 2 ** 32) * 2 - 1;
  }
  return out;
}

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b), m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * Median wall time in ms of `fn` over at least `runs` runs (and at least `minMs` in total, up to
 * `maxRuns` runs).
 */
export async function medianMs(fn, { runs = 7, warmup = 2, minMs = 300, maxRuns = 100 } = {}) {
  for (let i = 0; i < warmup; i++) await fn();
  const times = [];
  const start = performance.now();
  while (times.length < runs || (performance.now() - start < minMs && times.length < maxRuns)) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  return median(times);
}
