// `node bench/browser_bench.mjs [--readme]` (also `npm run bench -- --only browser`): the
// attention and matmul benchmarks in headless Chromium, where users run them. The bundle and
// onnxruntime-web come from one origin, the page from another (cross-origin isolated, so two
// threads share memory). Both SIMD builds are measured (relaxed, and the plain build a browser
// without relaxed SIMD runs), at one and two threads, with onnxruntime-web (one thread) in the
// same page as the baseline. Prints a markdown table; needs a built dist/.
import { createServer } from "node:http";
import { readFile } from "node:fs/promises";
import { launchChromium } from "../tests/_chromium.mjs";

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

/** Origin B ("localhost"), the page, cross-origin isolated. */
const page = await serve(async (req, res) => {
  const path = new URL(req.url, "http://x").pathname;
  const isolation = { "cross-origin-opener-policy": "same-origin", "cross-origin-embedder-policy": "require-corp" };
  if (path === "/page.js") {
    res.writeHead(200, { "content-type": "text/javascript", ...isolation });
    res.end(await readFile(new URL("bench/browser/page.js", root)));
  } else {
    res.writeHead(200, { "content-type": "text/html", ...isolation });
    res.end(`<!doctype html><title>bench</title><script type="module" src="/page.js${new URL(req.url, "http://x").search}"></script>`);
  }
});

const browser = await launchChromium();
let result;
try {
  const tab = await browser.newPage();
  const lengths = process.env.ATTENTION_QUICK ? "512,1024" : "512,1024,4096";
  await tab.goto(`http://localhost:${page.address().port}/?cdn=${encodeURIComponent(cdnOrigin)}&lengths=${lengths}`);
  await tab.waitForFunction(() => globalThis.result, null, { timeout: 15 * 60_000, polling: 1000 });
  result = await tab.evaluate(() => globalThis.result);
} finally {
  await browser.close();
  cdn.close();
  page.close();
}
if (result.error) throw new Error(result.error);

const fmt = (x) => (x >= 100 ? x.toFixed(0) : x.toFixed(1));
const chromiumVersion = /Chrome\/([\d.]+)/.exec(result.userAgent)?.[1] ?? "?";
const header = ["build", "threads", ...result.lengths.map((n) => `SDPA N = ${n}: GFLOP/s (× ort-web)`), "matmul 512³ GFLOP/s"];
const rows = result.rows.map((r) => [
  r.build, r.threads, ...result.lengths.map((n) => `${fmt(r.sdpa[n])} (${(r.sdpa[n] / result.ort[n]).toFixed(2)}×)`), fmt(r.matmul),
]);
rows.push(["onnxruntime-web (MatMul→Softmax→MatMul)", 1, ...result.lengths.map((n) => `${fmt(result.ort[n])} (1.00×)`), "–"]);
const table = [
  `| ${header.join(" | ")} |`,
  `|${header.map(() => "---").join("|")}|`,
  ...rows.map((r) => `| ${r.join(" | ")} |`),
].join("\n");
const text = `Headless Chromium ${chromiumVersion}, page cross-origin isolated (${result.isolated}), bundle and ` +
  `onnxruntime-web from a second origin; B = 1, H = 8, D = 64, FLOPs 4·N²·D per head; medians.\n\n${table}`;
console.log(text);

if (process.argv.includes("--readme")) {
  const { readFileSync, writeFileSync } = await import("node:fs");
  const readmeUrl = new URL("README.md", root);
  const readme = readFileSync(readmeUrl, "utf8");
  const open = "<!-- bench:browser -->", close = "<!-- /bench:browser -->";
  const i = readme.indexOf(open), j = readme.indexOf(close);
  if (i < 0 || j < i) console.warn(`README.md has no ${open} … ${close} section: not written`);
  else {
    const stamp = `\n_Measured by \`node bench/browser_bench.mjs --readme\`, ${new Date().toISOString().slice(0, 10)}._\n\n`;
    writeFileSync(readmeUrl, readme.slice(0, i + open.length) + stamp + text + "\n" + readme.slice(j));
  }
}
