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

/**
 * Median ms to make a fresh array of `length` floats and copy a result into it, as a call without
 * `out` does at its end (and tfjs's `dataSync()` and onnxruntime-web's outputs do): what the
 * host's allocator and page faults charge any library for a fresh output.
 */
export async function freshMs(length) {
  const result = random(length, 5);
  const ms = await medianMs(() => {
    freshOutput = new Float32Array(length);
    freshOutput.set(result);
  });
  freshOutput = null;
  return ms;
}

/** freshMs's last array, kept until the next so that making and filling it is not dead code. */
let freshOutput = null;

/**
 * The GEMM bound of a one-thread row (index `i` in each round's `rows`), as text: each call's
 * FLOPs at the speed of the same build's matmul 512³ into `out` (`row.matmulOut`, GFLOP/s) plus
 * what a fresh output of its size costs alone (`row.freshMs[n]`, `row.freshMs.matmul`), against
 * the peers of the same round (`ort(round, n)`, `tfjs(round)`: GFLOP/s), with the share of that
 * bound's speed the row reached. SDPA has `heads` heads of `dHead` dims at each of `lengths`.
 */
export function gemmBound(rounds, i, { lengths, heads, dHead, ort, tfjs }) {
  const each = (fn) => median(rounds.map((r) => fn(r.rows[i], r)));
  const pct = (x) => `${Math.round(100 * x)}%`;
  const boundMs = (row, flops, fresh) => flops / row.matmulOut / 1e6 + fresh;
  /** The bound against the peer (at most ×) and the call's share of the bound's speed. */
  const against = (flops, peer, gflops, key) => ({
    best: each((row, r) => flops / peer(r) / 1e6 / boundMs(row, flops, row.freshMs[key])),
    share: each((row) => (gflops(row) * boundMs(row, flops, row.freshMs[key]) * 1e6) / flops),
  });
  const sdpa = lengths.map((n) =>
    against(4 * n * n * dHead * heads, (r) => ort(r, n), (row) => row.sdpa[n], n)
  );
  const mm = against(2 * 512 ** 3, tfjs, (row) => row.matmul, "matmul");
  const fresh = [...lengths, "matmul"].map((k) => each((row) => row.freshMs[k]).toFixed(1));
  return `SDPA at most ${sdpa.map((x) => `${x.best.toFixed(2)}×`).join(" / ")} ` +
    "onnxruntime-web (the table's row reaches " +
    `${sdpa.map((x) => pct(x.share)).join(" / ")} of that bound's speed), matmul 512³ into a ` +
    `fresh array at most ${mm.best.toFixed(2)}× tfjs-backend-wasm (${pct(mm.share)}); fresh ` +
    `outputs ${fresh.slice(0, -1).join(" / ")} ms and ${fresh.at(-1)} ms`;
}

/**
 * The line under a table that carries gemmBound's text for each build (`builds`: [name, text]);
 * `host` is who pays for the fresh outputs ("the page", "the process").
 */
export function gemmBoundLine(lengths, builds, host) {
  return builds.length === 0 ? "" : "\n\nGEMM bound, one thread (each call's FLOPs at the speed of " +
    `the same build's matmul 512³ into \`out\`, plus what a fresh output of its size costs ${host} ` +
    `alone; N = ${lengths.join(" / ")}): ` +
    `${builds.map(([name, text]) => `${name}: ${text}`).join("; ")}.`;
}
