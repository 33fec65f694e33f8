// The browser test of the built bundle in a second engine (Firefox: firefox_test.mjs; WebKit:
// webkit_test.mjs), with no driver: dist/tessera.js comes from one origin and is imported by a
// page on a second origin, once plain (workers get copies of their inputs) and once cross-origin
// isolated (workers share memory). The bundle must pick the build the engine supports (found by
// the page's own relaxed-SIMD probe), and every area of the bundle (tests/bundle/cases.mjs) must
// give exactly the numbers Deno gets from src/ with that build, on one thread and on two; the
// plain build, asked for with `relaxedSimd: false`, must give Deno's plain-SIMD numbers. A fit big enough to split its steps must give the same
// model on one thread and on two. The page POSTs what it found. Checks print `ok <name>` /
// `FAIL <name>` / `SKIP` lines for tests/run_all.ts.
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { serve, serveCdn, skip, test } from "../_harness.mjs";
import { checkCases, denoExpected } from "../bundle/_expected.mjs";

const dist = new URL("../../dist/", import.meta.url);
const PAGES = [["plain page", false], ["isolated page", true]];

/**
 * What the page does: the bundle cases on 1 and 2 threads, a split fit, a sampling run whose
 * mixture calls split (on the plain page each worker keeps its rows for the whole run), bad
 * input, the requests. The sampled rows come back as two 32-bit hashes of their bits.
 */
const PAGE_SCRIPT = (cdnUrl) => `
import * as tessera from "${cdnUrl}";
import { mixtureOptions, runCases, splitFitData } from "/cases.mjs";
const report = (body) => fetch("/result", { method: "POST", body: JSON.stringify(body) });
// (module (func (result v128) i32.const 1 i8x16.splat i32.const 2 i8x16.splat
//   i8x16.relaxed_swizzle)): whether this engine has relaxed SIMD, asked here, not of the bundle.
const relaxedProbe = WebAssembly.validate(new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 15, 1, 13, 0, 65, 1, 253,
  15, 65, 2, 253, 15, 253, 128, 2, 11,
]));
try {
  const bundle = {
    1: await runCases(tessera, { threads: 1 }),
    2: await runCases(tessera, { threads: 2 }),
    plain: await runCases(tessera, { threads: 2, relaxedSimd: false }),
  };
  // Enough rows that the growth steps split (isolated page), the predictions too (both pages).
  const { x, y, n, cols } = splitFitData();
  const fits = {};
  for (const threads of [1, 2]) {
    const info = await tessera.init({ threads });
    const model = await new tessera.XGBClassifier({ nEstimators: 48, maxDepth: 5, backend: "wasm" })
      .fit({ data: x, shape: [n, cols] }, y);
    const p = await model.predictProba({ data: x, shape: [n, cols] });
    const gmm = new tessera.GaussianMixture({ ...mixtureOptions(64), backend: "wasm" });
    const sampled = await tessera.sample({
      denoiser: gmm.denoiser, batch: 8192, dim: 64, sigmas: tessera.karrasSigmas({ steps: 8 }),
      sampler: "heun", seed: 5, backend: "wasm",
    });
    let h1 = 2166136261, h2 = 0;
    for (const word of new Uint32Array(sampled.buffer, sampled.byteOffset, sampled.length)) {
      h1 = Math.imul(h1 ^ word, 16777619);
      h2 = (Math.imul(h2, 31) + word) >>> 0;
    }
    fits[threads] = {
      info,
      model: JSON.stringify(model.toJSON()),
      proba: Array.from(p.data.subarray(0, 64)),
      sampled: { length: sampled.length, hashes: [h1 >>> 0, h2], head: Array.from(sampled.subarray(0, 8)) },
    };
  }
  // Two-thread products long enough (1024³: the workers alone, ~50 ms) that this thread asks
  // for a message at their end, each after the workers fell asleep: three times the first two
  // calls of fresh workers, whose ports have sent nothing yet.
  const m = 1024, square = { data: new Float32Array(m * m).fill(0.5), shape: [m, m] };
  const longCalls = [];
  for (let trial = 0; trial < 3; trial++) {
    await tessera.dispose();
    await tessera.init({ threads: 2 });
    const calls = [];
    for (let i = 0; i < 2; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      const t0 = performance.now();
      const c = await tessera.matmul(square, square);
      calls.push({ ms: performance.now() - t0, value: c.data[m * m - 1] });
    }
    longCalls.push(calls);
  }
  let badInput = null;
  try {
    await tessera.matmul({ data: new Float32Array(6), shape: [2, 3] }, { data: new Float32Array(6), shape: [2, 3] });
  } catch (e) {
    badInput = e.name + ": " + e.message;
  }
  await tessera.dispose();
  const requests = performance.getEntriesByType("resource").map((e) => e.name);
  await report({
    bundle, fits, longCalls, badInput, requests, relaxedProbe, crossOriginIsolated,
    userAgent: navigator.userAgent,
  });
} catch (error) {
  await report({ error: String(error?.stack ?? error) });
}
`;

/**
 * Runs the suite in one engine: `engine.name` names its checks ("firefox"), `engine.missing`
 * says why it cannot run here (null where it can), `engine.resultFrom(url, result, ms)` opens
 * the page in a fresh browser and resolves with what it POSTs, `engine.userAgent` must match
 * the page's user agent.
 */
export async function engineSuite(engine) {
  const { name } = engine;
  if (engine.missing !== null) {
    for (const [label] of PAGES) skip(`${name} (${label})`, engine.missing);
    return;
  }
  const expected = await denoExpected();
  // Origin A: the CDN. CORS and CORP headers let any page import the module.
  const cdn = await serveCdn(dist);
  const cdnOrigin = `http://127.0.0.1:${cdn.address().port}`;
  const cases = await readFile(new URL("../bundle/cases.mjs", import.meta.url));
  let posted = null;
  // Origin B ("localhost" is not "127.0.0.1"): the user's page, isolated under /isolated.
  const page = await serve(async (req, res) => {
    const path = new URL(req.url, "http://x").pathname;
    const headers = path.startsWith("/isolated")
      ? {
        "cross-origin-opener-policy": "same-origin",
        "cross-origin-embedder-policy": "require-corp",
      }
      : {};
    if (req.method === "POST") {
      let body = "";
      for await (const chunk of req) body += chunk;
      res.writeHead(204).end();
      posted?.(JSON.parse(body));
    } else if (path === "/cases.mjs") {
      res.writeHead(200, { "content-type": "text/javascript", ...headers }).end(cases);
    } else if (path.endsWith("/page.mjs")) {
      res.writeHead(200, { "content-type": "text/javascript", ...headers });
      res.end(PAGE_SCRIPT(`${cdnOrigin}/tessera.js`));
    } else {
      res.writeHead(200, { "content-type": "text/html", ...headers });
      res.end(
        `<!doctype html><title>tessera</title><script type="module" src="${path}/page.mjs"></script>`,
      );
    }
  });
  const pageOrigin = `http://localhost:${page.address().port}`;

  /**
   * Opens the page in a fresh browser and waits (at most 5 minutes) for what it POSTs. A browser
   * that reports nothing at all in that time is opened once more, saying so in the log (WebKit's
   * isolated page once posted nothing in 300 s in a CI run, where the whole WebKit suite takes
   * ~8 s and passed in the 22 runs after it); a second silence, or any error the page reports,
   * fails.
   */
  async function runPage(path) {
    for (let attempt = 1;; attempt++) {
      try {
        return await engine.resultFrom(
          `${pageOrigin}${path}`,
          new Promise((resolve) => (posted = resolve)),
          300_000,
        );
      } catch (error) {
        if (attempt > 1 || !/: no result in /.test(String(error?.message))) throw error;
        console.log(`# ${name} ${path}: ${error.message}; opening the page once more`);
      } finally {
        posted = null;
      }
    }
  }

  for (const [label, isolated] of PAGES) {
    let out;
    const loads = `${name} (${label}): dist/tessera.js loads cross-origin, runs its build`;
    await test(loads, async () => {
      out = await runPage(isolated ? "/isolated" : "/plain");
      if (out.error) throw new Error(out.error);
      assert.match(out.userAgent, engine.userAgent);
      assert.equal(out.crossOriginIsolated, isolated);
      // The bundle, the build this engine runs and the plain build asked for, from the CDN;
      // nothing from anywhere else.
      const builds = out.relaxedProbe
        ? ["tessera.relaxed.js", "tessera.simd.js"]
        : ["tessera.simd.js"];
      const fromCdn = [...new Set(out.requests.filter((u) => u.startsWith(cdnOrigin)))].sort();
      assert.deepEqual(fromCdn, ["tessera.js", ...builds].map((f) => `${cdnOrigin}/${f}`));
      const foreign = out.requests.filter((u) =>
        !u.startsWith(pageOrigin) && !u.startsWith(cdnOrigin)
      );
      assert.deepEqual(foreign, []);
      const shared = isolated ? "-shared" : "";
      const picked = out.relaxedProbe ? "relaxed" : "simd";
      for (const threads of [1, 2]) {
        const { info } = out.bundle[threads];
        assert.equal(info.relaxedSimd, out.relaxedProbe);
        assert.equal(info.threads, threads);
        assert.equal(info.sharedMemory, isolated);
        assert.equal(info.wasmVariant, picked + shared);
      }
      const { info } = out.bundle.plain;
      assert.equal(info.relaxedSimd, false);
      assert.equal(info.threads, 2);
      assert.equal(info.wasmVariant, `simd${shared}`);
    });
    if (!out || out.error) continue;
    // The build the engine picks, on one thread and on two workers: Deno's numbers from src/ with
    // the same build, exactly; then the plain build on two workers against Deno's plain build.
    const [picked, build] = out.relaxedProbe ? ["relaxed", "relaxed"] : ["simd", "plain"];
    for (const threads of [1, 2]) {
      const checks = `${name} (${label}, ${threads} thread(s), ${build} SIMD)`;
      await checkCases(test, checks, out.bundle[threads].results, expected[picked]);
    }
    const plain = `${name} (${label}, 2 thread(s), plain SIMD asked for)`;
    await checkCases(test, plain, out.bundle.plain.results, expected.simd);
    await test(`${name} (${label}): an XGBClassifier fit gives the same model on 1 and 2 threads`, () => {
      assert.equal(out.fits[2].info.threads, 2);
      assert.equal(out.fits[2].model, out.fits[1].model);
      assert.deepEqual(out.fits[2].proba, out.fits[1].proba);
      assert.ok(out.fits[1].proba.every((p) => p > 0 && p < 1), "probabilities");
    });
    await test(`${name} (${label}): a sampling run (Heun, the mixture, 8,192 × 64) gives the same bits on 1 and 2 threads`, () => {
      const [one, two] = [out.fits[1].sampled, out.fits[2].sampled];
      assert.equal(one.length, 8192 * 64);
      assert.ok(one.head.every(Number.isFinite), "finite samples");
      assert.deepEqual(two, one);
    });
    await test(`${name} (${label}): a long two-thread call ends when its workers do, the first one too`, () => {
      // Without Atomics.waitAsync this thread hears of a long list's end by a message, which a
      // worker's fresh port may only send from its event loop: a worker back to polling and then
      // blocking in Atomics.wait held it until the wait's timeout (1 s), so a fresh pool's first
      // long call could last ~1.1 s against ~0.05 s for the next (this check failed in two runs
      // of three before the worker turned its event loop after such a message).
      for (const [first, second] of out.longCalls) {
        assert.ok(first.value === 256 && second.value === 256, "1024 × 0.25");
        assert.ok(
          first.ms - second.ms < 700,
          `first ${first.ms.toFixed(0)} ms, then ${second.ms.toFixed(0)} ms`,
        );
      }
    });
    await test(`${name} (${label}): bad input raises a RangeError naming the argument`, () => {
      assert.match(out.badInput, /^RangeError: .*"b"/);
    });
  }
  cdn.close();
  page.close();
}
