// The Chromium benchmark page (bench/browser_bench.mjs serves it): Tessera's SDPA, matmul (into a
// fresh result and into an array lent as `out`), a sampling run (Heun, the exact denoiser of a
// Gaussian mixture) and an
// XGBClassifier fit (on the page's own thread, as a page calls it; with the frames the page drew
// meanwhile and the longest wait of its timers) on the relaxed- and
// plain-SIMD builds at each thread count of `threads`, against
// onnxruntime-web (one thread, MatMul→Softmax→MatMul graph) for SDPA and tfjs-backend-wasm (one
// thread, its SIMD build) for matmul, measured in the same page. Reports through
// globalThis.result (and a POST to /result where the URL says `post=1`).
import { freshMs, medianMs, random } from "./_common.mjs";

const params = new URLSearchParams(location.search);
const cdn = params.get("cdn");
const LENGTHS = (params.get("lengths") ?? "512,1024,4096").split(",").map(Number);
const THREADS = (params.get("threads") ?? "1,2").split(",").map(Number);
const ROUNDS = Number(params.get("rounds") ?? 3);
const FIT_ROWS = Number(params.get("fitRows") ?? 200000);
const SAMPLE_ROWS = Number(params.get("sampleRows") ?? 32768);
const H = 8, D = 64, M = 512, FIT_COLS = 28, SAMPLE_DIM = 64;

/** The sampling run's mixture: 8 components of 64 dims, means sin(k + j), variances 0.1. */
const MIXTURE = {
  means: Array.from({ length: 8 }, (_, k) => Array.from({ length: SAMPLE_DIM }, (_, j) => Math.sin(k + j))),
  variances: Array.from({ length: 8 }, () => Array(SAMPLE_DIM).fill(0.1)),
  weights: Array(8).fill(1 / 8),
};

const runsFor = (n) => (n >= 4096 ? { runs: 3, warmup: 1, minMs: 0 } : {});
const qkv = (n) => [1, 2, 3].map((seed) => ({ data: random(H * n * D, seed), shape: [1, H, n, D] }));

/**
 * A binary problem like bench/trees_bench.ts's: FIT_ROWS × 28 features uniform in (−1, 1), the
 * label drawn from a logistic model of the first 14 (two of them through a product).
 */
function fitData() {
  const x = random(FIT_ROWS * FIT_COLS, 11), draws = random(FIT_ROWS, 12);
  const y = new Float64Array(FIT_ROWS);
  for (let r = 0; r < FIT_ROWS; r++) {
    const row = x.subarray(r * FIT_COLS, r * FIT_COLS + 14);
    let z = 2 * row[0] * row[1];
    for (let f = 2; f < 14; f++) z += ((f % 3) - 1 + 0.3) * row[f];
    y[r] = (draws[r] + 1) / 2 < 1 / (1 + Math.exp(-2 * z)) ? 1 : 0;
  }
  return { x: { data: x, shape: [FIT_ROWS, FIT_COLS] }, y };
}
const FIT = fitData();

/**
 * Watches the page while work runs: the frames it draws (requestAnimationFrame) and a chain of
 * zero-delay timers; `stop(began, ended)` gives the frames and the longest time without a frame
 * or a timer between `began` and `ended` (ms).
 */
function watchPage() {
  const events = [];
  let on = true;
  const tick = () => {
    if (!on) return;
    events.push(performance.now());
    setTimeout(tick, 0);
  };
  const frames = [];
  const frame = () => {
    if (!on) return;
    frames.push(performance.now());
    requestAnimationFrame(frame);
  };
  setTimeout(tick, 0);
  requestAnimationFrame(frame);
  return {
    stop(began, ended) {
      on = false;
      const inside = (ts) => ts.filter((t) => t > began && t < ended);
      const times = [began, ...inside([...events, ...frames]).sort((a, b) => a - b), ended];
      let gap = 0;
      for (let i = 1; i < times.length; i++) gap = Math.max(gap, times[i] - times[i - 1]);
      return { frames: inside(frames).length, longestGap: gap };
    },
  };
}

/** One round of Tessera: every build × thread count, SDPA at each length and matmul M³. */
async function tessera(tessera) {
  const rows = [];
  for (const relaxedSimd of [true, false]) {
    for (const threads of THREADS) {
      const info = await tessera.init({ threads, relaxedSimd });
      // A browser without relaxed SIMD (Safari, Firefox before 153 ESR) runs the plain build
      // either way.
      if (relaxedSimd && !info.relaxedSimd) break;
      const row = { build: info.wasmVariant, threads: info.threads, sdpa: {}, matmul: 0 };
      for (const n of LENGTHS) {
        const [q, k, v] = qkv(n);
        const ms = await medianMs(() => tessera.scaledDotProductAttention(q, k, v, { backend: "wasm" }), runsFor(n));
        row.sdpa[n] = (4 * n * n * D * H) / ms / 1e6;
      }
      const a = { data: random(M * M, 1), shape: [M, M] }, b = { data: random(M * M, 2), shape: [M, M] };
      row.matmul = (2 * M ** 3) / (await medianMs(() => tessera.matmul(a, b, { backend: "wasm" }))) / 1e6;
      // The same product written into one array lent as `out` (no fresh output to fault in).
      const out = new Float32Array(M * M);
      const intoOut = () => tessera.matmul(a, b, { backend: "wasm", out });
      row.matmulOut = (2 * M ** 3) / (await medianMs(intoOut)) / 1e6;
      // What a fresh result costs by itself at each output size (see freshMs), one thread only.
      if (threads === 1) {
        row.freshMs = { matmul: await freshMs(M * M) };
        for (const n of LENGTHS) row.freshMs[n] = await freshMs(H * n * D);
      }
      // A sampling run: Heun, 20 steps (39 denoiser calls), after a short one that warms up. On
      // a plain page its rows stay with the workers for the whole run (resident lanes).
      const gmm = new tessera.GaussianMixture({ ...MIXTURE, backend: "wasm" });
      const sampleRun = (steps) => () =>
        tessera.sample({
          denoiser: gmm.denoiser, batch: SAMPLE_ROWS, dim: SAMPLE_DIM, sigmas: tessera.karrasSigmas({ steps }),
          sampler: "heun", seed: 1, backend: "wasm",
        });
      await sampleRun(5)();
      row.sampleMs = await medianMs(sampleRun(20), { runs: 3, warmup: 0, minMs: 0 });
      // One fit per round (100 rounds, depth 6, 256 bins), after one of 80k rows and 20 rounds
      // that warms up every path it takes, the split ones too (as bench/trees_bench.ts does).
      const params = { nEstimators: 100, maxDepth: 6, learningRate: 0.3, maxBin: 256, backend: "wasm" };
      const warm = Math.min(FIT_ROWS, 80000);
      await new tessera.XGBClassifier({ ...params, nEstimators: 20 }).fit(
        { data: FIT.x.data.subarray(0, warm * FIT_COLS), shape: [warm, FIT_COLS] }, FIT.y.subarray(0, warm),
      );
      const watch = watchPage();
      const t0 = performance.now();
      await new tessera.XGBClassifier(params).fit(FIT.x, FIT.y);
      const t1 = performance.now();
      row.fitSeconds = (t1 - t0) / 1000;
      row.fitPage = watch.stop(t0, t1);
      rows.push(row);
    }
  }
  await tessera.dispose();
  return rows;
}

/** onnxruntime-web's session; each call measures one round of SDPA at every length. */
async function onnx() {
  const ort = await import(`${cdn}/ort/ort.wasm.min.mjs`);
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.proxy = false;
  ort.env.wasm.wasmPaths = `${cdn}/ort/`;
  const model = new Uint8Array(await (await fetch(`${cdn}/models/attention_matmul_softmax.onnx`)).arrayBuffer());
  const session = await ort.InferenceSession.create(model, { executionProviders: ["wasm"] });
  return async () => {
    const out = {};
    for (const n of LENGTHS) {
      const [q, k, v] = qkv(n);
      const feeds = {
        q: new ort.Tensor("float32", q.data, q.shape), k: new ort.Tensor("float32", k.data, k.shape),
        v: new ort.Tensor("float32", v.data, v.shape),
        scale: new ort.Tensor("float32", new Float32Array([1 / Math.sqrt(D)]), []),
      };
      out[n] = (4 * n * n * D * H) / (await medianMs(() => session.run(feeds), runsFor(n))) / 1e6;
    }
    return out;
  };
}

/** Loads a classic script from the CDN (tfjs ships UMD bundles that set globalThis.tf). */
function script(src) {
  return new Promise((resolve, reject) => {
    const el = Object.assign(document.createElement("script"), { src, crossOrigin: "anonymous" });
    el.onload = resolve;
    el.onerror = () => reject(new Error(`cannot load ${src}`));
    document.head.append(el);
  });
}

/** tfjs-backend-wasm (its single-threaded SIMD build); each call measures one round of matmul M³. */
async function tfjsMatmul() {
  await script(`${cdn}/tfjs/core/tf-core.min.js`);
  await script(`${cdn}/tfjs/wasm/tf-backend-wasm.min.js`);
  const tf = globalThis.tf;
  tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", false);
  tf.wasm.setWasmPaths(`${cdn}/tfjs/wasm/`);
  await tf.setBackend("wasm");
  await tf.ready();
  const a = tf.tensor2d(random(M * M, 1), [M, M]), b = tf.tensor2d(random(M * M, 2), [M, M]);
  const simd = await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT");
  const run = () => {
    const c = tf.matMul(a, b);
    c.dataSync();
    c.dispose();
  };
  return async () => ({ gflops: (2 * M ** 3) / (await medianMs(run)) / 1e6, simd });
}

// Rounds alternate Tessera and the peers, so that each ratio compares figures taken minutes
// apart at most; the page reports every round and bench/browser_bench.mjs takes medians.
try {
  // A freshly launched browser is busy for its first second or two: calls made then ran up to
  // 3x slower in Firefox here, whatever the code (see "Attention and matmul in Firefox").
  await new Promise((resolve) => setTimeout(resolve, 3000));
  const lib = await import(`${cdn}/dist/tessera.js`);
  const ortRound = await onnx();
  const tfjsRound = await tfjsMatmul();
  const rounds = [];
  for (let r = 0; r < ROUNDS; r++) {
    rounds.push({ rows: await tessera(lib), ort: await ortRound(), tfjs: await tfjsRound() });
  }
  globalThis.result = {
    rounds, lengths: LENGTHS, fitRows: FIT_ROWS, sampleRows: SAMPLE_ROWS, isolated: crossOriginIsolated,
    userAgent: navigator.userAgent,
  };
} catch (error) {
  globalThis.result = { error: String(error?.stack ?? error) };
}
// A browser without a driver (Firefox, see tests/_firefox.mjs) gets the result by POST.
if (params.get("post") === "1") {
  await fetch("/result", { method: "POST", body: JSON.stringify(globalThis.result) });
}
