// Browser test of the built bundle: dist/tessera.js served from one origin and imported by a
// page on a second origin, in headless Chromium driven by playwright-core. Two pages: a plain
// one (no cross-origin isolation: workers get copies of their inputs) and a cross-origin-isolated
// one (COOP/COEP: workers share one WebAssembly.Memory). Both must match the reference and give
// the same bits on 1 and 2 threads, and every area of the bundle (tests/bundle/cases.mjs) must
// give Deno's numbers from src/. Prints `ok <name>` / `FAIL <name>` for tests/run_all.ts.
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { launchChromium } from "../_chromium.mjs";
import { randomMatrix as random, serve, serveCdn, test } from "../_harness.mjs";
import { checkCases, denoExpected } from "../bundle/_expected.mjs";

const dist = new URL("../../dist/", import.meta.url);

// Origin A: the CDN. CORS and CORP headers let any page import the module.
const cdn = await serveCdn(dist);
const cdnUrl = `http://127.0.0.1:${cdn.address().port}/tessera.js`;

// Origin B ("localhost" is a different origin from "127.0.0.1"): the user's page.
const cases = await readFile(new URL("../bundle/cases.mjs", import.meta.url));
const page = await serve((req, res) => {
  if (req.url === "/cases.mjs") {
    res.writeHead(200, { "content-type": "text/javascript" }).end(cases);
    return;
  }
  const isolated = req.url.startsWith("/isolated");
  const headers = { "content-type": "text/html" };
  if (isolated) {
    headers["cross-origin-opener-policy"] = "same-origin";
    headers["cross-origin-embedder-policy"] = "require-corp";
  }
  res.writeHead(200, headers);
  res.end(`<!doctype html><title>tessera</title><script type="module">
    import * as tessera from "${cdnUrl}";
    window.tessera = tessera;
    window.ready = true;
  </script>`);
});
const pageOrigin = `http://localhost:${page.address().port}`;

const expected = await denoExpected();
const A = random(190, 150, 1), B = random(150, 170, 2), BIG = random(256, 256, 3);

// The reference numbers, from the same bundle in Node.
const node = await import(new URL("tessera.js", dist));
const f32 = (t) => ({ data: new Float32Array(t.data), shape: t.shape });
const reference = await node.matmul(f32(A), f32(B), { backend: "js" });
await node.dispose();

const browser = await launchChromium();


async function runPage(path, isolated) {
  const tab = await browser.newPage();
  const errors = [];
  tab.on("pageerror", (e) => errors.push(e));
  const requests = [];
  tab.on("request", (r) => requests.push(r.url()));
  await tab.goto(`${pageOrigin}${path}`);
  await tab.waitForFunction(() => window.ready === true, null, { timeout: 20000 });
  const out = await tab.evaluate(async ({ A, B, BIG, threads }) => {
    const { init, matmul, dispose, runtimeInfo, XGBClassifier } = window.tessera;
    const { GaussianMixture, karrasSigmas, sample } = window.tessera;
    const { mixtureOptions, splitFitData } = await import("/cases.mjs");
    // A sampling run whose mixture calls and updates split (its page's thread taking a share;
    // on the plain page each worker keeps its rows for the whole run: resident lanes).
    const dim = 64;
    const gmm = new GaussianMixture({ ...mixtureOptions(dim), backend: "wasm" });
    const t = (x) => ({ data: new Float32Array(x.data), shape: x.shape });
    // An output's bits hashed: FNV-1a over its words.
    const hash = (data) => {
      const words = new Uint32Array(data.buffer, data.byteOffset, data.length);
      let h = 2166136261;
      for (let i = 0; i < words.length; i++) h = Math.imul(h ^ words[i], 16777619) >>> 0;
      return h;
    };
    // A fit large enough that its steps split across the threads (the page's own thread taking
    // a share where memory is shared): histogram steps, partitions and margin updates.
    const { x: fitX, y: fitY, n, cols } = splitFitData();
    const runs = {};
    for (const threads of [1, 2]) {
      const info = await init({ threads });
      const model = await new XGBClassifier({ nEstimators: 48, maxDepth: 5, backend: "wasm" })
        .fit({ data: fitX, shape: [n, cols] }, fitY);
      runs[threads] = {
        info,
        small: Array.from((await matmul(t(A), t(B), { backend: "wasm" })).data),
        big: Array.from((await matmul(t(BIG), t(BIG), { backend: "wasm" })).data),
        bigJs: Array.from((await matmul(t(BIG), t(BIG), { backend: "js" })).data),
        // Into a lent array (copied memory on the plain page, shared on the isolated one).
        bigOut: await (async () => {
          const lent = new Float32Array(BIG.shape[0] * BIG.shape[1]).fill(NaN);
          const product = await matmul(t(BIG), t(BIG), { backend: "wasm", out: lent });
          return { same: product.data === lent, data: Array.from(lent) };
        })(),
        model: JSON.stringify(model.toJSON()),
        // Into a fresh array the page's thread takes a lane of the rows (WasmRuntime.laneOnPage
        // on the isolated page, laneOnCopied on the plain one): 256³ in one task a lane (big,
        // above), 512³ while the runtime is cold in two on the isolated page (MAX_TASK_WORK);
        // an even lane at first, then one sized from that call's timings (CallerShare).
        mid: await (async () => {
          const data = new Float32Array(512 * 512).map((_, i) => (i % 7) - 3);
          const w = { data, shape: [512, 512] };
          const product = (await matmul(w, w, { backend: "wasm" })).data;
          const again = (await matmul(w, w, { backend: "wasm" })).data;
          const check = (await matmul(w, w, { backend: "js" })).data;
          return { product: Array.from(product), again: Array.from(again), js: Array.from(check) };
        })(),
        // Longer, 2^29 flops a lane on two threads: on the plain page the workers' lanes alone,
        // the first of them faulting in a fresh array of the whole result, which comes back as
        // the result (src/backends/wasm/matmul.ts, workerRows). Small integers: exact.
        long: await (async () => {
          const a = { data: new Float32Array(1024 * 512).map((_, i) => (i % 5) - 2), shape: [1024, 512] };
          const b = { data: new Float32Array(512 * 1024).map((_, i) => (i % 3) - 1), shape: [512, 1024] };
          const check = (await matmul(a, b, { backend: "js" })).data;
          const wrong = [];
          for (let call = 0; call < 2; call++) {
            const product = (await matmul(a, b, { backend: "wasm" })).data;
            wrong.push(product.length === check.length ? product.filter((x, i) => x !== check[i]).length : -1);
          }
          return wrong;
        })(),
        // SDPA of 2^30 flops (B 1, H 4, N 1024, D 64): as the product above, twice; the bits of
        // each output hashed (FNV-1a over its words), compared with one thread's.
        sdpaLong: await (async () => {
          const { scaledDotProductAttention } = window.tessera;
          const x = { data: new Float32Array(4 * 1024 * 64).map((_, i) => Math.sin(i) / 2), shape: [1, 4, 1024, 64] };
          const hashes = [];
          for (let call = 0; call < 2; call++) {
            hashes.push(hash((await scaledDotProductAttention(x, x, x, { causal: true })).data));
          }
          return hashes;
        })(),
        // Short calls whose lanes claim their work on the isolated page: SDPA of 2^28 flops
        // (H 4, N 512), fresh and into `out`, hashed as above; matmul 512³ into `out` once the
        // runtime is warm (four 1024³ products: COLD_WORK), its rows then claimed by the
        // workers, small integers (exact).
        short: await (async () => {
          const { scaledDotProductAttention } = window.tessera;
          const x = { data: new Float32Array(4 * 512 * 64).map((_, i) => Math.cos(i) / 2), shape: [1, 4, 512, 64] };
          const lent = new Float32Array(4 * 512 * 64).fill(NaN);
          const sdpa = [];
          for (let call = 0; call < 2; call++) {
            sdpa.push(hash((await scaledDotProductAttention(x, x, x)).data));
            await scaledDotProductAttention(x, x, x, { out: lent });
            sdpa.push(hash(lent));
          }
          const big = { data: new Float32Array(1024 * 1024).map((_, i) => (i % 3) - 1), shape: [1024, 1024] };
          for (let call = 0; call < 4; call++) await matmul(big, big, { backend: "wasm" });
          const w = { data: new Float32Array(512 * 512).map((_, i) => (i % 5) - 2), shape: [512, 512] };
          const check = (await matmul(w, w, { backend: "js" })).data;
          const into = new Float32Array(512 * 512), wrong = [];
          for (let call = 0; call < 3; call++) {
            into.fill(NaN);
            await matmul(w, w, { backend: "wasm", out: into });
            wrong.push(into.filter((v, i) => v !== check[i]).length);
          }
          return { sdpa, wrong };
        })(),
        sampled: Array.from(
          await sample({
            denoiser: gmm.denoiser, batch: 8192, dim, sigmas: karrasSigmas({ steps: 8 }),
            sampler: "heun", seed: 5, backend: "wasm",
          }),
        ),
      };
    }
    let badInput = null;
    try {
      await matmul(t(A), t(A));
    } catch (e) {
      badInput = `${e.name}: ${e.message}`;
    }
    await dispose();
    const info = runtimeInfo();
    // Every area of the bundle, compared with Deno's results below.
    const { runCases } = await import("/cases.mjs");
    const bundle = await runCases(window.tessera, { threads });
    const adapter = (await navigator.gpu?.requestAdapter?.()) ?? null;
    return { runs, badInput, crossOriginIsolated: self.crossOriginIsolated, info, bundle, adapter: adapter !== null };
  }, { A, B, BIG, threads: isolated ? 2 : 1 });
  await tab.close();
  if (errors.length) throw errors[0];
  return { ...out, requests };
}

/**
 * Long work called without signal or callbacks, as `await model.fit(X, y)` or `await
 * sample(...)`, on the page's own thread (one thread, or a plain page, where boosting steps run
 * there at any thread count), with a click on a button a moment after it starts: when the page
 * received the click and when its handler ran, against when the work began and ended. `job` is
 * "fit" (an XGBClassifier fit) or "sample" (Euler steps on a synchronous denoiser).
 */
async function clickDuring(path, threads, job) {
  const tab = await browser.newPage();
  const errors = [];
  tab.on("pageerror", (e) => errors.push(e));
  await tab.goto(`${pageOrigin}${path}`);
  await tab.waitForFunction(() => window.ready === true, null, { timeout: 20000 });
  await tab.evaluate(async (threads) => {
    const { GaussianMixture, init, karrasSigmas, sample, XGBClassifier } = window.tessera;
    await init({ threads });
    document.body.innerHTML = '<button id="b" style="width:100px;height:60px">b</button>';
    window.clicks = [];
    document.getElementById("b").addEventListener("click", (e) => {
      window.clicks.push({ received: e.timeStamp, handled: performance.now() });
    });
    const n = 150000, cols = 16, x = new Float32Array(n * cols), y = new Float64Array(n);
    for (let i = 0, s = 5; i < x.length; i++) {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      x[i] = s / 2 ** 32 - 0.5;
    }
    for (let r = 0; r < n; r++) y[r] = x[r * cols] + x[r * cols + 1] * x[r * cols + 2] > 0 ? 1 : 0;
    const dim = 16, { mixtureOptions } = await import("/cases.mjs");
    const gmm = new GaussianMixture({ ...mixtureOptions(dim), backend: "js" });
    const jobs = {
      fit: () =>
        new XGBClassifier({ nEstimators: 100, maxDepth: 6, backend: "wasm" })
          .fit({ data: x, shape: [n, cols] }, y),
      sample: () =>
        sample({
          denoiser: gmm.denoiser, batch: 4000, dim, sigmas: karrasSigmas({ steps: 200 }),
          sampler: "euler",
        }),
      // A loop of short calls, each awaited: SDPA of 2^28 flops (B 1, H 4, N 512, D 64).
      calls: async () => {
        const { scaledDotProductAttention } = window.tessera;
        const q = { data: new Float32Array(4 * 512 * 64).map((_, i) => Math.sin(i) / 2), shape: [1, 4, 512, 64] };
        const out = new Float32Array(4 * 512 * 64);
        for (let i = 0; i < 120; i++) await scaledDotProductAttention(q, q, q, { out, backend: "wasm" });
      },
    };
    window.runJob = async (job) => {
      const began = performance.now();
      await jobs[job]();
      return { began, ended: performance.now() };
    };
  }, threads);
  const run = tab.evaluate((job) => window.runJob(job), job);
  await new Promise((resolve) => setTimeout(resolve, 150));
  // Raw input at the button (which lies at 8–108, 8–68): playwright's `click` would first run
  // its checks as scripts in the page, which wait behind the work's turns as timers do.
  await tab.mouse.click(50, 30);
  const { began, ended } = await run;
  const clicks = await tab.evaluate(() => window.clicks);
  await tab.evaluate(() => window.tessera.dispose());
  await tab.close();
  if (errors.length) throw errors[0];
  return { began, ended, clicks };
}

for (const [label, path, isolated] of [["plain page", "/plain", false], ["isolated page", "/isolated", true]]) {
  let out;
  await test(`browser (${label}): dist/tessera.js loads cross-origin`, async () => {
    out = await runPage(path, isolated);
    assert.equal(out.crossOriginIsolated, isolated);
    const cdnOrigin = new URL(cdnUrl).origin;
    const foreign = out.requests.filter((u) =>
      !u.startsWith(pageOrigin) && !u.startsWith(cdnOrigin) && !u.startsWith(`blob:${pageOrigin}`)
    );
    assert.deepEqual(foreign, [], "no network access beyond the page and the bundle's own origin");
    // The bundle and the one WASM build this browser runs (Chromium has relaxed SIMD), nothing else.
    const fromCdn = [...new Set(out.requests.filter((u) => u.startsWith(cdnOrigin)))].sort();
    assert.deepEqual(fromCdn, [`${cdnOrigin}/tessera.js`, `${cdnOrigin}/tessera.relaxed.js`]);
  });
  if (!out) continue;
  await test(`browser (${label}): WASM matmul matches the reference`, () => {
    const got = out.runs[1].small;
    for (let i = 0; i < got.length; i++) {
      assert.ok(Math.abs(got[i] - reference.data[i]) < 1e-4, `element ${i}: ${got[i]} vs ${reference.data[i]}`);
    }
    for (let i = 0; i < out.runs[1].big.length; i++) {
      assert.ok(Math.abs(out.runs[1].big[i] - out.runs[1].bigJs[i]) < 2e-4, `big element ${i}`);
    }
  });
  await test(`browser (${label}): runtimeInfo().webgpu says whether the page gets an adapter`, () => {
    assert.equal(out.runs[1].info.webgpu, out.adapter);
  });
  await test(`browser (${label}): 2 threads give the same bits as 1 (matmul, into out, an XGBoost fit, sampling)`, () => {
    assert.equal(out.runs[2].info.threads, 2);
    assert.equal(out.runs[2].info.sharedMemory, isolated);
    assert.deepEqual(out.runs[2].small, out.runs[1].small);
    assert.deepEqual(out.runs[2].big, out.runs[1].big);
    for (const threads of [1, 2]) {
      assert.ok(out.runs[threads].bigOut.same, "the result holds the lent out");
      assert.deepEqual(out.runs[threads].bigOut.data, out.runs[1].big, `into out, ${threads} thread(s)`);
    }
    assert.equal(out.runs[2].model, out.runs[1].model, "the XGBClassifier fit's model");
    assert.deepEqual(out.runs[2].mid.product, out.runs[1].mid.product, "512³ into a fresh array");
    // Small integers: every product is exact, so the js backend's bits too.
    assert.deepEqual(out.runs[2].mid.product, out.runs[2].mid.js);
    assert.deepEqual(out.runs[2].mid.again, out.runs[2].mid.js, "512³ again, the page's lane learnt");
    for (const threads of [1, 2]) {
      assert.deepEqual(out.runs[threads].long, [0, 0], `1024 × 512 · 512 × 1024, ${threads} thread(s)`);
    }
    const [once] = out.runs[1].sdpaLong;
    assert.deepEqual([...out.runs[1].sdpaLong, ...out.runs[2].sdpaLong], [once, once, once, once], "SDPA N = 1024");
    const [short] = out.runs[1].short.sdpa;
    assert.deepEqual(
      [...out.runs[1].short.sdpa, ...out.runs[2].short.sdpa],
      new Array(8).fill(short),
      "SDPA N = 512, fresh and into out",
    );
    for (const threads of [1, 2]) {
      assert.deepEqual(out.runs[threads].short.wrong, [0, 0, 0], `warm 512³ into out, ${threads} thread(s)`);
    }
    assert.equal(out.runs[1].sampled.length, 8192 * 64);
    assert.deepEqual(out.runs[2].sampled, out.runs[1].sampled, "a sampling run (Heun, the mixture)");
  });
  await test(`browser (${label}): bad input raises a RangeError naming the argument`, () => {
    assert.match(out.badInput, /^RangeError: .*"b"/);
  });
  // Chromium's relaxed-SIMD build on one thread (plain page) and on two workers sharing memory
  // (isolated page): the numbers Deno gets from src/ with the relaxed build, exactly.
  const bundleLabel = `browser (${label}, ${isolated ? "2 workers" : "1 thread"}, relaxed SIMD)`;
  await test(`${bundleLabel}: runs the relaxed build`, () => {
    assert.equal(out.bundle.info.wasmVariant, isolated ? "relaxed-shared" : "relaxed");
    assert.equal(out.bundle.info.threads, isolated ? 2 : 1);
  });
  await checkCases(test, bundleLabel, out.bundle.results, expected.relaxed);
  // The fit and the sampling run on the page's thread: one thread on the isolated page, and
  // on the plain page at any thread count. They give the event loop a turn every 10 ms, so the
  // click is answered then, not when the work ends. So does a loop of awaited calls that run on
  // the page's thread (one thread: each call settles without waiting on a task, and the
  // runtime gives a turn where one is due; the plain page's lanes wait on the worker's reply).
  const pageThreads = isolated ? 1 : 2;
  for (const job of ["fit", "sample", "calls"]) {
    const name = `browser (${label}, ${pageThreads} thread(s)): a click during ${job} is answered`;
    await test(name, async () => {
      const { began, ended, clicks } = await clickDuring(path, pageThreads, job);
      assert.equal(clicks.length, 1, "one click, one handler call");
      const [{ received, handled }] = clicks;
      const during = `${job} ${began.toFixed(0)}–${ended.toFixed(0)} ms, click received at ` +
        `${received.toFixed(0)}, handled at ${handled.toFixed(0)}`;
      assert.ok(received > began && received < ended, `the click came during it: ${during}`);
      assert.ok(handled < ended, `the handler waited for the ${job}'s end: ${during}`);
      const late = (handled - received).toFixed(0);
      assert.ok(handled - received < 150, `the handler ran ${late} ms late: ${during}`);
    });
  }
}

await browser.close();
cdn.close();
page.close();
