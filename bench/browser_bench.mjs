// `node bench/browser_bench.mjs [--browser chromium|firefox|webkit] [--readme] [--threads 1,2,4]
// [--pages isolated,plain]` (also `npm run bench -- --only browser`, `--only firefox` and `--only
// webkit`): the attention and matmul benchmarks, a sampling run, and an XGBClassifier fit called
// from the page's own thread, in headless Chromium (default), Firefox or WebKit (Safari's engine:
// WebKitGTK's MiniBrowser on Xvfb), where users run them.
// The bundle and the peers come from one origin, the page from another: once cross-origin
// isolated (threads share memory), once a plain page without COOP/COEP, as most sites serve
// (each worker gets copies of its inputs). Both SIMD builds are measured (relaxed, and the plain
// build a browser without relaxed SIMD runs) at each thread count (default 1, 2 and 4 up to the
// host's cores), with onnxruntime-web (SDPA) and tfjs-backend-wasm (matmul), one thread each, in
// the same page as the baselines. Prints a markdown table per page, and under it the GEMM bound of
// the one-thread rows (each call's FLOPs at the speed of the same build's matmul 512³ into `out`,
// plus what a fresh output of its size costs the page alone); needs a built dist/.
// ATTENTION_QUICK=1: one round, N = 512 and 1024, a 50k-row fit, 8,192 rows sampled.
import { createServer } from "node:http";
import { readFile } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { launchChromium } from "../tests/_chromium.mjs";
import { firefoxMissing, firefoxVersion, resultFromFirefox } from "../tests/_firefox.mjs";
import { resultFromWebKit, webkitMissing, webkitVersion } from "../tests/_webkit.mjs";
import { gemmBound, gemmBoundLine, median } from "./_common.mjs";

const root = new URL("../", import.meta.url);
const types = { ".js": "text/javascript", ".mjs": "text/javascript", ".wasm": "application/wasm", ".onnx": "application/octet-stream" };

function serve(handler) {
  return new Promise((resolve) => {
    const server = createServer(handler);
    server.listen(0, "127.0.0.1", () => resolve(server));
  });
}

/** Origin A, the CDN: dist/, onnxruntime-web's files under /ort/, the ONNX models. */
const cdn = await serve(async (req, res) => {
  const path = new URL(req.url, "http://x").pathname;
  const file = path.startsWith("/ort/")
    ? new URL(`node_modules/onnxruntime-web/dist/${path.slice(5)}`, root)
    : path.startsWith("/tfjs/core/")
    ? new URL(`node_modules/@tensorflow/tfjs-core/dist/${path.slice(11)}`, root)
    : path.startsWith("/tfjs/wasm/")
    ? new URL(`node_modules/@tensorflow/tfjs-backend-wasm/dist/${path.slice(11)}`, root)
    : path.startsWith("/models/") ? new URL(`bench${path}`, root) : new URL(`.${path}`, root);
  try {
    const body = await readFile(file);
    res.writeHead(200, {
      "content-type": types[path.slice(path.lastIndexOf("."))] ?? "application/octet-stream",
      "access-control-allow-origin": "*",
      "cross-origin-resource-policy": "cross-origin",
    });
    res.end(body);
  } catch {
    res.writeHead(404).end();
  }
});
const cdnOrigin = `http://127.0.0.1:${cdn.address().port}`;

/** Resolves the page's result where it comes by POST (Firefox, WebKit). */
let posted = null;
/** Origin B ("localhost"), the page: cross-origin isolated unless the query says `isolated=0`. */
const page = await serve(async (req, res) => {
  const url = new URL(req.url, "http://x"), path = url.pathname;
  if (req.method === "POST" && path === "/result") {
    let body = "";
    for await (const chunk of req) body += chunk;
    res.writeHead(204).end();
    posted?.(JSON.parse(body));
    return;
  }
  const isolation = url.searchParams.get("isolated") === "0" && path === "/"
    ? {}
    : { "cross-origin-opener-policy": "same-origin", "cross-origin-embedder-policy": "require-corp" };
  if (path === "/page.js" || path === "/_common.mjs") {
    res.writeHead(200, { "content-type": "text/javascript", ...isolation });
    res.end(await readFile(new URL(path === "/page.js" ? "bench/browser/page.js" : "bench/_common.mjs", root)));
  } else {
    res.writeHead(200, { "content-type": "text/html", ...isolation });
    res.end(`<!doctype html><title>bench</title><script type="module" src="/page.js${new URL(req.url, "http://x").search}"></script>`);
  }
});

const threadsArg = process.argv.includes("--threads") ? process.argv[process.argv.indexOf("--threads") + 1] : null;
const threads = threadsArg ?? [1, 2, 4].filter((t) => t === 1 || t <= availableParallelism()).join(",");

const pagesArg = process.argv.includes("--pages") ? process.argv[process.argv.indexOf("--pages") + 1] : null;
const pages = (pagesArg ?? "isolated,plain").split(",");

const browserArg = process.argv.includes("--browser") ? process.argv[process.argv.indexOf("--browser") + 1] : "chromium";
if (!["chromium", "firefox", "webkit"].includes(browserArg)) {
  throw new RangeError(`--browser: chromium, firefox or webkit, not ${browserArg}`);
}
const firefox = browserArg === "firefox", webkit = browserArg === "webkit";
const missing = firefox ? firefoxMissing() : webkit ? webkitMissing() : null;
if (missing !== null) {
  console.log(`${missing}: not measured.`);
  cdn.close();
  page.close();
  process.exit(0);
}
const TIMEOUT_MS = 15 * 60_000;

/** Runs the page at `url` in a fresh Firefox or WebKit and waits for the result it POSTs. */
async function byPost(url) {
  const resultFrom = firefox ? resultFromFirefox : resultFromWebKit;
  try {
    return await resultFrom(`${url}&post=1`, new Promise((resolve) => (posted = resolve)), TIMEOUT_MS);
  } finally {
    posted = null;
  }
}

const browser = firefox || webkit ? null : await launchChromium();
const results = [];
try {
  for (const kind of pages) {
    const lengths = process.env.ATTENTION_QUICK ? "512,1024" : "512,1024,4096";
    const rounds = process.env.ATTENTION_QUICK ? 1 : 3;
    const fitRows = process.env.ATTENTION_QUICK ? 50000 : 200000;
    const sampleRows = process.env.ATTENTION_QUICK ? 8192 : 32768;
    const url = `http://localhost:${page.address().port}/?cdn=${encodeURIComponent(cdnOrigin)}&lengths=${lengths}` +
      `&threads=${threads}&rounds=${rounds}&fitRows=${fitRows}&sampleRows=${sampleRows}` +
      `&isolated=${kind === "plain" ? 0 : 1}`;
    let result;
    if (firefox || webkit) result = await byPost(url);
    else {
      // A fresh tab per page: its own workers, WASM memory and allocator state.
      const tab = await browser.newPage();
      await tab.goto(url);
      await tab.waitForFunction(() => globalThis.result, null, { timeout: TIMEOUT_MS, polling: 1000 });
      result = await tab.evaluate(() => globalThis.result);
      await tab.close();
    }
    if (result.error) throw new Error(result.error);
    results.push(result);
  }
} finally {
  await browser?.close();
  cdn.close();
  page.close();
}
const browserName = firefox
  ? `Firefox ${await firefoxVersion()}`
  : webkit
  ? `WebKitGTK ${await webkitVersion()} (MiniBrowser on an Xvfb display)`
  : null;

const fmt = (x) => (x >= 100 ? x.toFixed(0) : x.toFixed(1));
/** The page's attention shape (bench/browser/page.js): H heads of D dims. */
const HEADS = 8, D_HEAD = 64;
/** 32768 → "32,768". */
const fmtRows = (n) => n.toLocaleString("en-US");

/** One page's markdown table and thread-scaling line. */
function report(result) {
  const name = browserName ?? `Chromium ${/Chrome\/([\d.]+)/.exec(result.userAgent)?.[1] ?? "?"}`;
  // Each cell: the median over rounds of GFLOP/s, and the median over rounds of the ratio to the
  // peer measured in the same round.
  const { rounds } = result;
  const cell = (pick, base) =>
    `${fmt(median(rounds.map(pick)))} (${median(rounds.map((r) => pick(r) / base(r))).toFixed(2)}×)`;
  const header = [
    "build", "threads", ...result.lengths.map((n) => `SDPA N = ${n}: GFLOP/s (× ort-web)`), "matmul 512³: GFLOP/s (× tfjs-wasm)",
    "matmul 512³ into `out`: GFLOP/s (× tfjs-wasm)", `sample() ${fmtRows(result.sampleRows)} × 64: ms`,
    `XGBClassifier fit ${result.fitRows / 1000}k × 28: s`,
    "the page during the fit: frames, longest gap",
  ];
  const rows = rounds[0].rows.map((r0, i) => [
    r0.build, r0.threads,
    ...result.lengths.map((n) => cell((r) => r.rows[i].sdpa[n], (r) => r.ort[n])),
    cell((r) => r.rows[i].matmul, (r) => r.tfjs.gflops),
    cell((r) => r.rows[i].matmulOut, (r) => r.tfjs.gflops),
    median(rounds.map((r) => r.rows[i].sampleMs)).toFixed(0),
    median(rounds.map((r) => r.rows[i].fitSeconds)).toFixed(2),
    `${median(rounds.map((r) => r.rows[i].fitPage.frames))}, ` +
    `${median(rounds.map((r) => r.rows[i].fitPage.longestGap)).toFixed(0)} ms`,
  ]);
  rows.push([
    "onnxruntime-web (MatMul→Softmax→MatMul)", 1, ...result.lengths.map((n) => cell((r) => r.ort[n], (r) => r.ort[n])), "–", "–", "–", "–", "–",
  ]);
  rows.push([
    `tfjs-backend-wasm (${rounds[0].tfjs.simd ? "SIMD" : "no SIMD"})`, 1, ...result.lengths.map(() => "–"),
    cell((r) => r.tfjs.gflops, (r) => r.tfjs.gflops), "–", "–", "–", "–",
  ]);
  // Thread scaling: the median over rounds of (GFLOP/s at t threads) / (GFLOP/s at 1 thread),
  // where the list of thread counts has 1.
  const hasOne = (r0) => rounds[0].rows.some((r) => r.build === r0.build && r.threads === 1);
  const scaling = rounds[0].rows.filter((r) => r.threads > 1 && hasOne(r)).map((r0) => {
    const i = rounds[0].rows.indexOf(r0);
    const one = rounds[0].rows.findIndex((r) => r.build === r0.build && r.threads === 1);
    const ratioOf = (pick) => median(rounds.map((r) => pick(r.rows[i]) / pick(r.rows[one]))).toFixed(2);
    return `${r0.build} ${r0.threads}/1 threads: SDPA ${result.lengths.map((n) => `${ratioOf((x) => x.sdpa[n])}×`).join(" / ")}, ` +
      `matmul ${ratioOf((x) => x.matmul)}× (into \`out\` ${ratioOf((x) => x.matmulOut)}×), ` +
      `sampling ${ratioOf((x) => 1 / x.sampleMs)}×, fit ${ratioOf((x) => 1 / x.fitSeconds)}×`;
  });
  // What a one-thread row could reach on this page (see gemmBound).
  const bounds = rounds[0].rows.filter((r) => r.threads === 1 && r.freshMs).map((r0) => [
    r0.build,
    gemmBound(rounds, rounds[0].rows.indexOf(r0), {
      lengths: result.lengths,
      heads: HEADS,
      dHead: D_HEAD,
      ort: (r, n) => r.ort[n],
      tfjs: (r) => r.tfjs.gflops,
    }),
  ]);
  const table = [
    `| ${header.join(" | ")} |`,
    `|${header.map(() => "---").join("|")}|`,
    ...rows.map((r) => `| ${r.join(" | ")} |`),
  ].join("\n");
  const copies = "each worker gets copies of its inputs; the fit's large trees grow on the page's " +
    "thread and one worker, the rest of the fit on the page's thread";
  const where = !result.isolated
    ? `a plain page without COOP/COEP (${copies})`
    : rounds[0].rows[0].build.endsWith("-shared")
    ? "a cross-origin-isolated page (the workers share WASM memory)"
    : `a cross-origin-isolated page that has no SharedArrayBuffer all the same (${copies})`;
  return `${webkit ? "" : "Headless "}${name}, ${where}, bundle and ` +
    `peers from a second origin; B = 1, H = 8, D = 64, FLOPs 4·N²·D per head; matmul 2·M³ (tfjs's ` +
    `\`dataSync()\` copies its result into a fresh array, as Tessera's call without \`out\` does); ` +
    `\`sample()\`: Heun, 20 steps, the exact denoiser of a Gaussian mixture (8 components of 64 dims), ` +
    `median of 3 runs; the fit ` +
    `(100 rounds, depth 6, 256 bins) called from the page's own thread, with the frames the page drew ` +
    `meanwhile and the longest time it went without a frame or a zero-delay timer; medians of ` +
    `${rounds.length} rounds, each ratio taken within a round.\n\n${table}` +
    (scaling.length
      ? `\n\nThread scaling (N = ${result.lengths.join(" / ")}): ${scaling.join("; ")}.`
      : "") +
    gemmBoundLine(result.lengths, bounds, "the page");
}

const text = results.map(report).join("\n\n");
console.log(text);

if (process.argv.includes("--readme")) {
  const { readFileSync, writeFileSync } = await import("node:fs");
  const readmeUrl = new URL("README.md", root);
  const readme = readFileSync(readmeUrl, "utf8");
  const marker = `bench:${firefox ? "firefox" : webkit ? "webkit" : "browser"}`;
  const open = `<!-- ${marker} -->`, close = `<!-- /${marker} -->`;
  const i = readme.indexOf(open), j = readme.indexOf(close);
  if (i < 0 || j < i) console.warn(`README.md has no ${open} … ${close} section: not written`);
  else {
    const command = `node bench/browser_bench.mjs${browserArg === "chromium" ? "" : ` --browser ${browserArg}`} --readme`;
    const stamp = `\n_Measured by \`${command}\`, ${new Date().toISOString().slice(0, 10)}._\n\n`;
    writeFileSync(readmeUrl, readme.slice(0, i + open.length) + stamp + text + "\n" + readme.slice(j));
  }
}
