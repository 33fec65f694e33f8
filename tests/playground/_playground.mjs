// Drives the playground page (examples/playground/, served by its own serve.ts) in headless
// Chromium through playwright-core, as a visitor would: autorun on an isolated page at desktop
// size and on a non-isolated page at phone size, a fit that is cancelled, an uploaded CSV, and
// the attention panel's check against the reference; then autorun on both kinds of page in
// headless Firefox and in WebKit (Safari's engine), whose pages report by POST (no driver: see
// tests/_firefox.mjs and tests/_webkit.mjs). Prints
// `ok <name>` / `FAIL <name>` lines for tests/run_all.ts; screenshots go to
// tests/playground/out/ (ignored by git).
//
// Usage: node tests/playground/playground_test.mjs   (needs dist/ built: npm run build),
// which imports this file under Node only.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { request as httpRequest } from "node:http";
import { mkdir } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { CHROMIUM_ARGS } from "../_chromium.mjs";
import { firefoxMissing, resultFromFirefox } from "../_firefox.mjs";
import { resultFromWebKit, webkitMissing } from "../_webkit.mjs";
import { serve, skip, test } from "../_harness.mjs";

const root = fileURLToPath(new URL("../../", import.meta.url));
const shots = fileURLToPath(new URL("./out/", import.meta.url));
const deno = process.env.DENO_PATH ?? `${root}tools/node_modules/.bin/deno`;
await mkdir(shots, { recursive: true });

// What `npm start` does after build.ts (which writes dist/ and the page's assets in
// examples/playground/out/): the server.
const server = spawn(deno, ["run", "-A", "examples/playground/serve.ts"], {
  cwd: root,
  env: { ...process.env, PORT: "0" },
  stdio: ["ignore", "pipe", "inherit"],
});
process.on("exit", () => server.kill());
const origin = await new Promise((resolve, reject) => {
  server.on("exit", (code) => reject(new Error(`serve.ts exited with code ${code}`)));
  server.stdout.on("data", (chunk) => {
    const match = /http:\/\/[^/\s]+/.exec(String(chunk));
    if (match) resolve(match[0]);
  });
});

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
  headless: true,
  args: [...CHROMIUM_ARGS, "--enable-unsafe-webgpu"],
});

/** A fresh tab that records page errors and requests leaving the server's origin. */
async function open(path, viewport = { width: 1200, height: 900 }) {
  const page = await browser.newPage({ viewport });
  const errors = [];
  const foreign = [];
  page.on("pageerror", (error) => errors.push(error));
  page.on("request", (r) => {
    const url = r.url();
    if (!url.startsWith(origin) && !url.startsWith("blob:") && !url.startsWith("data:")) {
      foreign.push(url);
    }
  });
  await page.goto(`${origin}${path}`);
  await page.waitForFunction(
    () => globalThis.playground !== undefined || document.body.dataset.done === "error",
    null,
    { timeout: 60_000 },
  );
  return { page, errors, foreign };
}

const state = (page, panel) => page.$eval(`#${panel}`, (s) => s.dataset.state);
const waitState = (page, panel, states, timeout = 120_000) =>
  page.waitForFunction(([p, s]) => s.includes(document.getElementById(p).dataset.state), [
    panel,
    states,
  ], { timeout });

async function autorun(label, path, viewport, isolated) {
  await test(`playground (${label}): autorun finishes with no page errors`, async () => {
    const { page, errors, foreign } = await open(path, viewport);
    try {
      await page.waitForFunction(() => document.body.dataset.done !== "false", null, {
        timeout: 240_000,
      });
      const out = await page.evaluate(() => {
        /** The fraction of a canvas's pixels darker than mid-grey, and what the page drew. */
        const inkOf = (canvas) => {
          const { data } = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height);
          let dark = 0;
          for (let i = 0; i < data.length; i += 4) if (data[i] < 128) dark++;
          return { ink: dark / (data.length / 4), drawn: Number(canvas.dataset.drawn) };
        };
        return {
          done: document.body.dataset.done,
          error: document.body.dataset.error ?? "",
          isolated: self.crossOriginIsolated,
          info: globalThis.tessera.runtimeInfo(),
          plots: document.querySelectorAll("[data-plotted] canvas").length,
          accuracy: Number(document.getElementById("trees-metrics").dataset.accuracy),
          xgboost: Number(document.getElementById("trees-xgb-result").dataset.maxDifference),
          exampleAccuracy: Number(document.getElementById("trees-xgb-result").dataset.accuracy),
          importances: Number(document.getElementById("trees-importances").dataset.count),
          checks: [...document.querySelectorAll("#attn-check tbody tr")].map((tr) => ({
            ...tr.dataset,
          })),
          frame: Number(document.getElementById("diff-canvas").dataset.frame),
          nfe: Number(document.getElementById("diff-readout").dataset.nfe),
          floor: Number(document.getElementById("diff-chart").dataset.floor),
          waterfall: { ...document.getElementById("trees-waterfall").dataset },
          waterfallBars: document.querySelectorAll("#trees-waterfall svg rect").length,
          digits: inkOf(document.getElementById("digits-canvas")),
          digitsNfe: Number(document.getElementById("digits-readout").dataset.nfe),
          digitsState: document.getElementById("digits").dataset.state,
          overflow: document.documentElement.scrollWidth - globalThis.innerWidth,
        };
      });
      await page.screenshot({
        path: `${shots}autorun-${isolated ? "isolated" : "plain"}.png`,
        fullPage: true,
      });
      assert.equal(out.done, "true", out.error);
      assert.deepEqual(errors, []);
      assert.deepEqual(foreign, [], "nothing is fetched from another origin");
      assert.equal(out.isolated, isolated);
      assert.equal(out.info.sharedMemory, isolated);
      assert.ok(out.plots >= 3, `at least three plots, found ${out.plots}`);
      assert.ok(out.accuracy > 0.9, `breast cancer test accuracy ${out.accuracy}`);
      assert.ok(out.xgboost < 1e-5, `XGBoost example: max |Tessera − XGBoost| = ${out.xgboost}`);
      assert.ok(out.exampleAccuracy > 0.95, `XGBoost example accuracy ${out.exampleAccuracy}`);
      assert.equal(out.importances, 15);
      assert.ok(out.checks.length >= 6, `attention checks: ${out.checks.length}`);
      for (const c of out.checks) {
        assert.ok(Number(c.maxError) <= Number(c.tolerance), JSON.stringify(c));
      }
      assert.equal(out.nfe, 35, "heun, 18 steps: 2·18 − 1 denoiser calls");
      assert.equal(out.frame, 18, "the replay reaches σ = 0");
      assert.ok(out.floor > 0 && out.floor < 0.5, `two exact draws differ by ${out.floor}`);
      // The waterfall explains the last model, the XGBoost example: 30 features, one output.
      const wf = out.waterfall;
      assert.equal(wf.ok, "true", JSON.stringify(wf));
      assert.equal(wf.shape, "1x31");
      assert.equal(wf.steps, "13", "bias, 10 features, 20 others summed, the margin");
      assert.equal(out.waterfallBars, 13);
      assert.ok(Number(wf.difference) <= 1e-5, `|Σφ − margin| = ${wf.difference}`);
      assert.ok(
        Number(wf.referenceDifference) < 1e-6,
        `σ(Σφ) vs XGBoost: ${wf.referenceDifference}`,
      );
      assert.equal(out.digitsState, "done");
      assert.equal(out.digitsNfe, 8, "the digits: unipc, 8 steps, one denoiser call each");
      assert.ok(out.digits.drawn === 64, `64 digits drawn, found ${out.digits.drawn}`);
      assert.ok(
        out.digits.ink > 0.05 && out.digits.ink < 0.5,
        `the digits canvas has ink on ${out.digits.ink} of its pixels`,
      );
      assert.ok(out.overflow <= 1, `no sideways scrolling (${out.overflow} px too wide)`);
    } finally {
      await page.close();
    }
  });
}

await autorun("isolated, desktop", "/?autorun", { width: 1200, height: 900 }, true);
await autorun("not isolated, phone", "/?autorun&isolated=0", { width: 390, height: 844 }, false);

for (const [estimator, rounds] of [["xgb", 20000], ["rf", 3000]]) {
  await test(`playground: a ${estimator} fit shows progress and can be cancelled`, async () => {
    const { page, errors } = await open("/");
    try {
      await page.selectOption("#trees-data", "vehicle");
      await page.waitForFunction(() =>
        document.getElementById("trees-summary").textContent.includes("846 rows")
      );
      await page.selectOption("#trees-estimator", estimator);
      await page.fill('[data-option="nEstimators"]', String(rounds));
      await page.click("#trees-fit");
      await page.waitForFunction(() => document.getElementById("trees-progress").value >= 2, null, {
        timeout: 60_000,
      });
      assert.equal(await page.isEnabled("#trees-cancel"), true);
      await page.click("#trees-cancel");
      await waitState(page, "trees", ["cancelled", "error", "done"]);
      const progress = await page.$eval("#trees-progress", (p) => [p.value, p.max]);
      assert.equal(await state(page, "trees"), "cancelled");
      assert.equal(progress[1], rounds);
      assert.ok(progress[0] < rounds, `stopped at ${progress[0]} of ${rounds}`);
      assert.equal(
        await page.isEnabled("#trees-download"),
        false,
        "no model to download after a cancel",
      );
      // The page is usable afterwards: a short fit completes.
      await page.fill('[data-option="nEstimators"]', "10");
      await page.click("#trees-fit");
      await waitState(page, "trees", ["done", "error", "cancelled"]);
      assert.equal(await state(page, "trees"), "done");
      assert.deepEqual(errors, []);
    } finally {
      await page.close();
    }
  });
}

/** A CSV with numeric, categorical and missing cells: the label follows a rule of x1, color. */
function syntheticCsv(rows) {
  const lines = ["x1;color;x2;amount;label"];
  let s = 7;
  const uniform = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  for (let i = 0; i < rows; i++) {
    const x1 = uniform() * 4 - 2, x2 = uniform();
    const color = ["red", "green", "blue"][Math.floor(uniform() * 3)];
    const positive = x1 + (color === "red" ? 1.5 : color === "blue" ? -1.5 : 0) > 0;
    const amount = 10 * x1 + (color === "green" ? 5 : 0) + uniform();
    const cell = (v) => (uniform() < 0.03 ? "NA" : v);
    lines.push(
      [
        cell(x1.toFixed(4)),
        cell(color),
        cell(x2.toFixed(4)),
        amount.toFixed(3),
        positive ? "yes" : "no",
      ].join(";"),
    );
  }
  return lines.join("\r\n") + "\r\n";
}

await test("playground: an uploaded CSV trains (classification, then regression)", async () => {
  const { page, errors } = await open("/");
  try {
    await page.setInputFiles("#trees-file", {
      name: "mine.csv",
      mimeType: "text/csv",
      buffer: Buffer.from(syntheticCsv(600)),
    });
    await page.waitForFunction(() =>
      document.getElementById("trees-summary").textContent.startsWith("mine.csv")
    );
    assert.equal(await page.$eval("#trees-target", (s) => s.value), "label");
    assert.equal(await page.$eval("#trees-task", (s) => s.value), "classification");
    const summary = await page.textContent("#trees-summary");
    assert.match(summary, /600 rows, 4 features \(categorical: color/);
    assert.match(summary, /2 classes: no, yes/);
    await page.click("#trees-fit");
    await waitState(page, "trees", ["done", "error", "cancelled"]);
    assert.equal(await state(page, "trees"), "done", await page.textContent("#trees .state"));
    const accuracy = Number(await page.$eval("#trees-metrics", (m) => m.dataset.accuracy));
    assert.ok(accuracy > 0.85, `accuracy ${accuracy}`);
    assert.equal(await page.$$eval("#trees-result table.confusion td", (tds) => tds.length), 4);

    await page.selectOption("#trees-target", "amount");
    assert.equal(await page.$eval("#trees-task", (s) => s.value), "regression");
    await page.selectOption("#trees-estimator", "rf");
    await page.click("#trees-fit");
    await waitState(page, "trees", ["done", "error", "cancelled"]);
    assert.equal(await state(page, "trees"), "done", await page.textContent("#trees .state"));
    const rmse = Number(await page.$eval("#trees-metrics", (m) => m.dataset.rmse));
    assert.ok(rmse > 0 && rmse < 2, `RMSE ${rmse} (the target spans about 45)`);
    await page.screenshot({ path: `${shots}uploaded-csv.png`, fullPage: true });
    assert.deepEqual(errors, []);
  } finally {
    await page.close();
  }
});

await test("playground: the attention panel's error readout is within tolerance", async () => {
  const { page, errors } = await open("/");
  try {
    await page.fill("#attn-n", "64,256");
    await page.fill("#attn-heads", "2");
    await page.fill("#attn-dim", "16");
    await page.fill("#attn-chunk", "32");
    await page.check("#attn-causal");
    await page.fill("#attn-threads", "1,2");
    await page.click("#attn-run");
    await waitState(page, "attention", ["done", "error"]);
    const rows = await page.$$eval(
      "#attn-check tbody tr",
      (trs) => trs.map((tr) => ({ ...tr.dataset })),
    );
    const webgpu = await page.isEnabled("#attn-webgpu");
    assert.equal(rows.length, 3 * (3 + (webgpu ? 1 : 0)), JSON.stringify(rows));
    for (const row of rows) {
      const error = Number(row.maxError), tolerance = Number(row.tolerance);
      assert.ok(Number.isFinite(error) && error <= tolerance, JSON.stringify(row));
      if (row.backend !== "JS") assert.ok(tolerance <= 1e-3, JSON.stringify(row));
    }
    assert.equal(await state(page, "attention"), "done");
    console.log(`# attention checked on ${[...new Set(rows.map((r) => r.backend))].join(", ")}`);
    assert.deepEqual(errors, []);
  } finally {
    await page.close();
  }
});

await test("playground: the mixture editor adds, moves and removes modes", async () => {
  const { page, errors } = await open("/");
  try {
    const box = await page.$eval("#diff-canvas", (c) => {
      c.scrollIntoView({ block: "center" });
      const r = c.getBoundingClientRect();
      return { left: r.left, top: r.top, size: r.width };
    });
    // Data coordinates to page pixels: the resting view spans [-6, 6] on both axes.
    const at = (
      x,
      y,
    ) => [
      box.left + box.size / 2 + (x * box.size) / 12,
      box.top + box.size / 2 - (y * box.size) / 12,
    ];
    const modes = () =>
      page.$$eval(
        "#diff-modes li",
        (lis) => lis.map((li) => li.textContent.trim().split("w")[0].trim()),
      );
    assert.equal((await modes()).length, 3);
    await page.mouse.click(...at(4, 4));
    assert.deepEqual((await modes())[3], "● (4.0, 4.0)");
    await page.mouse.move(...at(-2.5, -1.5));
    await page.mouse.down();
    await page.mouse.move(...at(-1, -3), { steps: 5 });
    await page.mouse.up();
    assert.deepEqual((await modes())[0], "● (-1.0, -3.0)");
    assert.equal((await modes()).length, 4, "a drag adds nothing");
    await page.mouse.dblclick(...at(4, 4));
    assert.deepEqual(await modes(), ["● (-1.0, -3.0)", "● (2.5, -1.5)", "● (0.0, 2.5)"]);
    await page.click("#diff-sample");
    await waitState(page, "diffusion", ["done", "error"]);
    assert.equal(await state(page, "diffusion"), "done");
    assert.deepEqual(errors, []);
  } finally {
    await page.close();
  }
});

await test("playground: the waterfall's contributions add up to the model's output", async () => {
  const { page, errors } = await open("/");
  try {
    const fit = async (data, rows, estimator, rounds) => {
      if (data) {
        await page.selectOption("#trees-data", data);
        await page.waitForFunction(
          (r) => document.getElementById("trees-summary").textContent.includes(`${r} rows`),
          rows,
        );
      }
      await page.selectOption("#trees-estimator", estimator);
      if (rounds) await page.fill('[data-option="nEstimators"]', String(rounds));
      await page.click("#trees-fit");
      await waitState(page, "trees", ["done", "error", "cancelled"]);
      assert.equal(await state(page, "trees"), "done", await page.textContent("#trees .state"));
      return await page.$eval("#trees-waterfall", (b) => ({
        ...b.dataset,
        bars: b.querySelectorAll("svg rect").length,
        labels: [...b.querySelectorAll("svg text[text-anchor=end]")].map((t) => t.textContent),
      }));
    };
    const check = (wf, shape, steps) => {
      assert.equal(wf.ok, "true", JSON.stringify(wf));
      assert.equal(wf.shape, shape);
      assert.equal(wf.steps, String(steps));
      assert.equal(wf.bars, steps);
      assert.ok(Number(wf.difference) <= Number(wf.tolerance), JSON.stringify(wf));
      assert.ok(Number(wf.difference) <= 1e-4 * Math.max(1, Math.abs(Number(wf.output))));
    };
    // A forest on iris: one block per class, probabilities; 4 features, all shown.
    const forest = await fit("iris", 150, "rf", 50);
    check(forest, "1x3x5", 6);
    assert.equal(forest.labels[0], "bias (expected output)");
    assert.match(forest.labels[5], /^P\((setosa|versicolor|virginica)\)$/);
    await page.fill("#trees-explain-row", "12");
    await page.dispatchEvent("#trees-explain-row", "change");
    await page.waitForFunction(() =>
      document.getElementById("trees-waterfall").dataset.row === "12"
    );
    check(
      await page.$eval("#trees-waterfall", (b) => ({
        ...b.dataset,
        bars: b.querySelectorAll("svg rect").length,
      })),
      "1x3x5",
      6,
    );
    assert.match(
      await page.textContent("#trees-explain-note"),
      /test row 12 of 30; predicted \w+, true \w+/,
    );
    // XGBoost on Vehicle: [n, K, F + 1] with 4 classes, the predicted class's margin.
    const booster = await fit("vehicle", 846, "xgb", 30);
    check(booster, "1x4x19", 13);
    assert.match(booster.labels[12], /^margin of /);
    assert.equal(booster.labels[11], "8 other features");
    // Regression: the prediction.
    check(await fit("diabetes", 442, "gb", 30), "1x11", 12);
    // AdaBoost has no TreeSHAP: the page says so and draws nothing.
    await fit("iris", 150, "ada", 10);
    assert.equal(await page.$$eval("#trees-waterfall svg", (s) => s.length), 0);
    assert.match(await page.textContent("#trees-explain-note"), /no TreeSHAP/);
    await page.screenshot({ path: `${shots}waterfall.png`, fullPage: true });
    assert.deepEqual(errors, []);
  } finally {
    await page.close();
  }
});

await test("playground: the digits network samples a chosen class, guided or not", async () => {
  const { page, errors, foreign } = await open("/");
  try {
    const run = async (settings) => {
      for (const [id, value] of Object.entries(settings)) {
        if (id === "class" || id === "sampler") await page.selectOption(`#digits-${id}`, value);
        else await page.fill(`#digits-${id}`, value);
      }
      await page.click("#digits-sample");
      await waitState(page, "digits", ["done", "error"]);
      assert.equal(await state(page, "digits"), "done", await page.textContent("#digits .state"));
      return await page.$eval("#digits-readout", (r) => ({ text: r.textContent, ...r.dataset }));
    };
    const guided = await run({ class: "3", guidance: "3", sampler: "ipndm", steps: "6" });
    assert.equal(guided.nfe, "6");
    assert.equal(guided.calls, "6", "classifier-free guidance: one batched call per step");
    assert.match(guided.text, /class 3, guidance 3: NFE 6 \(6 network calls of 128 rows\)/);
    const plain = await run({ class: "none", sampler: "heun", steps: "4" });
    assert.equal(plain.nfe, "7", "heun, 4 steps: 2·4 − 1");
    assert.match(plain.text, /class none: NFE 7 \(7 network calls of 64 rows\)/);
    assert.equal(await page.isDisabled("#digits-guidance"), true);
    const ink = await page.$eval("#digits-canvas", (c) => {
      const { data } = c.getContext("2d").getImageData(0, 0, c.width, c.height);
      let dark = 0;
      for (let i = 0; i < data.length; i += 4) if (data[i] < 128) dark++;
      return dark / (data.length / 4);
    });
    assert.ok(ink > 0.05 && ink < 0.5, `ink on ${ink} of the canvas`);
    await page.fill("#digits-steps", "0");
    await page.click("#digits-sample");
    await waitState(page, "digits", ["done", "error"]);
    assert.match(
      await page.textContent("#digits .state"),
      /"steps" to be an integer in \[1, 500\]/,
    );
    assert.deepEqual(errors, []);
    assert.deepEqual(foreign, [], "onnxruntime-web and the network come from the page's server");
  } finally {
    await page.close();
  }
});

await browser.close();

/**
 * The playground's autorun in Firefox and WebKit: the page comes through a proxy of the
 * playground's server that adds one script to its HTML, which POSTs what the page shows once
 * `data-done` is set.
 */
const REPORTER = `<script type="module">
const errors = [];
addEventListener("error", (e) => errors.push(String(e.message)));
addEventListener("unhandledrejection", (e) => errors.push(String(e.reason)));
const timer = setInterval(() => {
  const done = document.body.dataset.done;
  if (done === undefined || done === "false") return;
  clearInterval(timer);
  const data = (id) => ({ ...document.getElementById(id).dataset });
  fetch("/__result", { method: "POST", body: JSON.stringify({
    done, error: document.body.dataset.error ?? "", errors, isolated: self.crossOriginIsolated,
    info: globalThis.tessera?.runtimeInfo(), accuracy: Number(data("trees-metrics").accuracy),
    xgboost: Number(data("trees-xgb-result").maxDifference),
    checks: [...document.querySelectorAll("#attn-check tbody tr")].map((tr) => ({ ...tr.dataset })),
    nfe: Number(data("diff-readout").nfe), frame: Number(data("diff-canvas").frame),
    waterfall: data("trees-waterfall"), digits: data("digits").state,
    digitsNfe: Number(data("digits-readout").nfe),
  }) });
}, 250);
</script>`;

/**
 * The engines whose autorun is checked: a name, why it cannot run here (null where it can), and
 * how a page is opened there (resolving with what it POSTs).
 */
const ENGINES = [
  {
    name: "firefox",
    missing: firefoxMissing(),
    resultFrom: resultFromFirefox,
  },
  {
    name: "webkit",
    missing: webkitMissing(),
    resultFrom: resultFromWebKit,
  },
];

let posted = null;
const upstream = new URL(origin);
const proxy = await serve((req, res) => {
  if (req.method === "POST" && req.url === "/__result") {
    let body = "";
    req.on("data", (chunk) => (body += chunk));
    req.on("end", () => {
      res.writeHead(204).end();
      posted?.(JSON.parse(body));
    });
    return;
  }
  const forward = httpRequest({
    host: upstream.hostname === "localhost" ? "127.0.0.1" : upstream.hostname,
    port: upstream.port,
    path: req.url,
    method: req.method,
    headers: req.headers,
  }, (up) => {
    const chunks = [];
    up.on("data", (chunk) => chunks.push(chunk));
    up.on("end", () => {
      let body = Buffer.concat(chunks);
      const headers = { ...up.headers };
      delete headers["content-length"];
      if (String(up.headers["content-type"]).includes("text/html")) {
        body = Buffer.from(String(body).replace("</body>", `${REPORTER}</body>`));
      }
      res.writeHead(up.statusCode, headers).end(body);
    });
  });
  req.pipe(forward);
});
const proxyOrigin = `http://127.0.0.1:${proxy.address().port}`;
const pages = [["isolated", "/?autorun", true], ["not isolated", "/?autorun&isolated=0", false]];
for (const engine of ENGINES) {
  if (engine.missing !== null) {
    skip(`playground (${engine.name})`, engine.missing);
    continue;
  }
  for (const [label, path, isolated] of pages) {
    await test(`playground (${engine.name}, ${label}): autorun finishes with no page errors`, async () => {
      let out;
      try {
        out = await engine.resultFrom(
          `${proxyOrigin}${path}`,
          new Promise((resolve) => (posted = resolve)),
          240_000,
        );
      } finally {
        posted = null;
      }
      assert.equal(out.done, "true", out.error);
      assert.deepEqual(out.errors, []);
      assert.equal(out.isolated, isolated);
      assert.equal(out.info.sharedMemory, isolated);
      assert.ok(out.accuracy > 0.9, `breast cancer test accuracy ${out.accuracy}`);
      assert.ok(out.xgboost < 1e-5, `XGBoost example: max |Tessera − XGBoost| = ${out.xgboost}`);
      assert.ok(out.checks.length >= 6, `attention checks: ${out.checks.length}`);
      for (const c of out.checks) {
        assert.ok(Number(c.maxError) <= Number(c.tolerance), JSON.stringify(c));
      }
      assert.equal(out.nfe, 35, "heun, 18 steps: 2·18 − 1 denoiser calls");
      assert.equal(out.frame, 18, "the replay reaches σ = 0");
      assert.equal(out.waterfall.ok, "true", JSON.stringify(out.waterfall));
      assert.equal(out.digits, "done");
      assert.equal(out.digitsNfe, 8, "the digits: unipc, 8 steps, one denoiser call each");
    });
  }
}
proxy.close();
server.kill();
