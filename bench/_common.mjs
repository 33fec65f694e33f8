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

/** The clock's step in ms (see clockStepMs), once measured. */
let clockStep;

/**
 * The smallest change of `performance.now()` seen in five tries, in ms: 1 ms on a page without
 * cross-origin isolation in Firefox and WebKit, 0.1 ms in Chromium, µs elsewhere.
 */
export function clockStepMs() {
  if (clockStep === undefined) {
    clockStep = Infinity;
    for (let k = 0; k < 5; k++) {
      const a = performance.now();
      let b;
      while ((b = performance.now()) === a);
      clockStep = Math.min(clockStep, b - a);
    }
  }
  return clockStep;
}

/** A timed sample spans at least this many clock steps (see medianMs). */
const SAMPLE_STEPS = 20;

/**
 * Median wall time in ms of `fn` over at least `runs` samples (and at least `minMs` in total, up
 * to `maxRuns` samples). A sample is one call, or where a call lasts less than SAMPLE_STEPS
 * steps of a coarse clock (a 15 ms call against a 1 ms clock would read 15 or 16), the mean of as
 * many back-to-back calls as span them.
 */
export async function medianMs(fn, { runs = 7, warmup = 2, minMs = 300, maxRuns = 100 } = {}) {
  for (let i = 0; i < warmup; i++) await fn();
  const step = clockStepMs(), span = SAMPLE_STEPS * step;
  const times = [];
  let batch = 1;
  const start = performance.now();
  while (times.length < runs || (performance.now() - start < minMs && times.length < maxRuns)) {
    const t0 = performance.now();
    for (let i = 0; i < batch; i++) await fn();
    const ms = performance.now() - t0;
    if (times.length === 0 && batch === 1 && ms < span) {
      // Too short for the clock: this call only tells how many make a sample.
      batch = Math.ceil(span / Math.max(ms, step / 2));
      continue;
    }
    times.push(ms / batch);
  }
  return median(times);
}
