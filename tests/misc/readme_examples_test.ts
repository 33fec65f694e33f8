/**
 * The README's code examples (STYLE.md rule 11): every fenced `ts` or `js` block of README.md,
 * and the module script of an `html` block, runs against `src/mod.ts` with what its comments
 * promise asserted, or is listed in SKIPPED with the reason it cannot run here. A block that is
 * neither, or a list entry that matches no block, fails the inventory test.
 *
 * Each example runs as a module of its own in a temporary file: `tessera-ml` (npm or CDN) is
 * rewritten to src/mod.ts, a `prelude` defines what the block leaves to the reader (`X`, `y`,
 * a fetched model file), and `claims`, appended in the block's scope, throws when a claim of the
 * README's fails. The examples' console.log output is captured, not printed.
 *
 * @module
 */
import assert from "node:assert/strict";
import { pathToFileURL } from "node:url";
import { dispose, init, runtimeInfo } from "../../src/mod.ts";
import { skippable } from "../_skip.ts";

const ROOT = new URL("../../", import.meta.url);
const README = new URL("../../README.md", import.meta.url);
const MOD = new URL("src/mod.ts", ROOT).href;

/** One README example: a fenced block's code (for `html`, its module script's). */
interface Block {
  /** README.md's line of the opening fence. */
  line: number;
  lang: string;
  code: string;
}

/** How an example runs and what it promises. */
interface Example {
  /** Text found in this block alone (in its first line where that is distinctive). */
  key: string;
  /** What the block shows, for the test's name. */
  title: string;
  /** Why the block needs `prelude`: what it leaves undefined. */
  needs?: string;
  /** Code put before the block, in its module: the definitions it leaves to the reader. */
  prelude?: string;
  /** Code appended in the block's scope; it throws (through `__claim`) when a claim fails. */
  claims: string;
  /**
   * Options the runtime is started with before the block (the block's own calls otherwise start
   * it with the defaults).
   */
  init?: Parameters<typeof init>[0];
  /** Checks of the arguments of the block's console.log calls. */
  logs?: (logs: unknown[][]) => void;
}

/** A block that does not run here, and why. */
interface Skipped {
  key: string;
  reason: string;
}

/** Shared by every example module, before its prelude. */
const HEADER = `import * as __tessera from "${MOD}";
const __repo = new URL("${ROOT.href}");
function __claim(ok: boolean, message: string): void {
  if (!ok) throw new Error("README claim failed: " + message);
}
function __finite(values: ArrayLike<number>): boolean {
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i])) return false;
  return true;
}
void __repo, __finite;
`;

/** Rows, labels and test rows for the blocks that use `X`, `y`, `Xtest` without defining them. */
const DATA = `const __lcg = (seed: number) => () =>
  (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32;
const __rand = __lcg(7);
const X = Array.from({ length: 160 }, () => [__rand(), __rand(), __rand(), __rand()]);
// Two informative features and 10% of the labels flipped, so no round fits every row.
const y = X.map(([a, b]) => (a + b > 1) !== (__rand() < 0.1) ? 1 : 0);
const Xtest = Array.from({ length: 25 }, () => [__rand(), __rand(), __rand(), __rand()]);
`;

/** The blocks that run, in README order. */
const EXAMPLES: Example[] = [
  {
    key: `import { init, matmul } from "https://cdn.jsdelivr.net/npm/tessera-ml/dist/tessera.js"`,
    title: "browser from a CDN: init() and a 2×2 matmul",
    claims: `
__claim(["simd", "relaxedSimd", "threads", "webgpu"].every((k) => k in info), "init() reports");
__claim(JSON.stringify(Array.from(c.data)) === "[7,10,15,22]", "c.data is " + c.data);
__claim(JSON.stringify(c.shape) === "[2,2]", "c.shape is " + c.shape);
`,
  },
  {
    key: `import { init, XGBClassifier } from "tessera-ml";`,
    title: "bundlers: the named imports",
    claims:
      `__claim(typeof init === "function" && typeof XGBClassifier === "function", "imports");`,
  },
  {
    key: "const proba: Tensor = await model.predictProba(X);",
    title: "TypeScript: XGBClassifier and its Tensor result",
    needs: "X and y are the reader's",
    prelude: `const X = Array.from({ length: 60 }, (_, i) => [i % 10, Math.floor(i / 10)]);
const y = X.map(([a]) => (a < 3 ? 0 : a < 7 ? 1 : 2));
`,
    claims: `
__claim(JSON.stringify(proba.shape) === "[60,3]", "proba is [n, nClasses]: " + proba.shape);
let __right = 0;
for (let r = 0; r < 60; r++) {
  const p = Array.from(proba.data.subarray(3 * r, 3 * r + 3));
  __claim(Math.abs(p[0] + p[1] + p[2] - 1) < 1e-5, "row " + r + " sums to 1: " + p);
  if (p.indexOf(Math.max(...p)) === y[r]) __right++;
}
__claim(__right >= 57, "the training rows' classes: " + __right + " of 60");
`,
  },
  {
    key: `import { init, matmul } from "npm:tessera-ml";`,
    title: "Deno: init({ threads: 2 })",
    claims: `__claim(__tessera.runtimeInfo().threads === 2, "threads: 2");`,
  },
  {
    key: "await dispose();",
    title: "Node: init() and dispose()",
    claims: `__claim(__tessera.runtimeInfo().wasmVariant === null, "dispose() ended the runtime");`,
  },
  {
    key: "for (const b of batches) await matmul(a, b, { out });",
    title: "matmul into a lent out array",
    needs: "matmul, a and batches are the reader's",
    // matmul records each result; a is 512 × 16 so that each product is 512 × 512, cheaply.
    prelude: `const __rand = ((seed: number) => () =>
  (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32 - 0.5)(3);
const __random = (rows: number, cols: number) =>
  ({ data: Float32Array.from({ length: rows * cols }, __rand), shape: [rows, cols] });
const a = __random(512, 16);
const batches = [__random(16, 512), __random(16, 512)];
const __results: { data: Float32Array; copy: Float32Array; fresh: Float32Array }[] = [];
const matmul = async (...args: Parameters<typeof __tessera.matmul>) => {
  const result = await __tessera.matmul(...args);
  const fresh = await __tessera.matmul(args[0], args[1]);
  __results.push({ data: result.data, copy: result.data.slice(), fresh: fresh.data });
  return result;
};
`,
    claims: `
__claim(__results.length === batches.length, "one product per batch");
for (const [i, r] of __results.entries()) {
  __claim(r.data === out, "the result of call " + i + " holds out");
  const same = new Uint32Array(r.copy.buffer).every((v, j) =>
    v === new Uint32Array(r.fresh.buffer)[j]);
  __claim(same, "call " + i + ": out's bits are a fresh result's");
}
__claim(out.every((v, j) => v === __results[1].fresh[j]), "out holds the last product");
`,
  },
  {
    key: "import { scaledDotProductAttention, linearAttention, mixedChunkAttention }",
    title: "attention: softmax, linear and mixed-chunk",
    // "auto" asks for a WebGPU device for work this large, and a Deno process that has asked
    // for one aborts at exit now and then (see src/runtime/runtime.ts; tests/run_all.ts runs
    // such files apart). Without a hardware adapter "auto" picks WASM, as this does.
    init: { backend: "wasm" },
    claims: `
for (const [name, t] of [["softmax", out], ["linear", lin], ["mixed-chunk", mixed]] as const) {
  __claim(JSON.stringify(t.shape) === "[1,8,1024,64]", name + " shape " + t.shape);
  __claim(__finite(t.data), name + " output is finite");
}
`,
  },
  {
    key: `const imported = fromXGBoostJSON(new Uint8Array(await (await fetch("model.ubj"))`,
    title: "XGBClassifier, fromXGBoostJSON and toXGBoostJSON",
    needs: `it fetches "model.ubj", a model of the reader's: here XGBoost 1.7's ` +
      "tests/fixtures/explain/shap_binary_missing.ubj",
    prelude: `const __fixture = "tests/fixtures/explain/shap_binary_missing";
const fetch = (_input: string) =>
  Promise.resolve(new Response(Deno.readFileSync(new URL(__fixture + ".ubj", __repo))));
`,
    claims: `
__claim(JSON.stringify(proba.shape) === "[1,2]", "proba is a Tensor [1, 2]: " + proba.shape);
__claim(Math.abs(proba.data[0] + proba.data[1] - 1) < 1e-6, "proba sums to 1");
// y = x0 on the four rows (minChildWeight 0 lets a leaf hold one row). XGBoost 1.7.4, the same
// parameters (tree_method "hist"): predict_proba([[1, 0.5]]) = [0.01908082, 0.9809192].
__claim(Math.abs(proba.data[1] - 0.9809192) < 1e-6, "XGBoost's 0.9809192: " + proba.data[1]);
// XGBoost 1.7's own probabilities for the fixture's rows (NaN stored as null).
const __fx = JSON.parse(Deno.readTextFileSync(new URL(__fixture + ".json", __repo)));
const __rows = __fx.X.map((r: (number | null)[]) => r.map((v) => v ?? NaN));
__claim(imported instanceof XGBClassifier, "a binary:logistic model imports as XGBClassifier");
const __p = (await (imported as XGBClassifier).predictProba(__rows)).data;
__fx.prediction.forEach((p: number, i: number) =>
  __claim(Math.abs(__p[2 * i + 1] - p) <= 1e-6, "row " + i + ": " + __p[2 * i + 1] + " vs " + p)
);
const __back = __tessera.fromXGBoostJSON(text);
__claim(__back instanceof XGBClassifier, "toXGBoostJSON's text imports as XGBClassifier");
const __again = (await (__back as XGBClassifier).predictProba([[1, 0.5]])).data;
__claim(Math.abs(__again[1] - proba.data[1]) <= 1e-6, "the exported model predicts the same");
`,
  },
  {
    key: "categoricalFeatures: [0], nEstimators: 20",
    title: "XGBRegressor with a categorical column",
    claims: `
const __y = await model.predict(X);
__claim(__y.length === 6 && __finite(__y), "finite predictions: " + __y);
__claim(__y.every((v) => v > 0.9 && v < 4.1), "predictions near the targets' range: " + __y);
const __trees = JSON.parse(model.toXGBoostJSON()).learner.gradient_booster.model.trees;
__claim(__trees.some((t: { split_type: number[] }) => t.split_type.includes(1)),
  "column 0 splits by category sets");
`,
  },
  {
    key: "import { AdaBoostClassifier, DecisionTreeClassifier, RandomForestClassifier }",
    title: "RandomForestClassifier and AdaBoostClassifier",
    needs: "X, y and Xtest are the reader's",
    prelude: DATA,
    claims: `
__claim(forest.oobScore > 0.6 && forest.oobScore <= 1, "oobScore " + forest.oobScore);
const __imp = forest.featureImportances;
__claim(__imp.length === 4, "one importance per feature");
__claim(Math.abs(__imp.reduce((s, v) => s + v, 0) - 1) < 1e-5, "importances sum to 1");
__claim(__imp[0] + __imp[1] > __imp[2] + __imp[3], "the informative features matter more");
__claim(staged.length === boosted.estimators.length, "one prediction per round");
__claim(staged.length > 10, staged.length + " rounds");
__claim(staged.every((p) => p instanceof Float32Array && p.length === Xtest.length), "rows");
const __last = await boosted.predict(Xtest);
__claim(__last.every((v, i) => v === staged[staged.length - 1][i]), "last stage = predict");
`,
    logs: (logs) => {
      const progress = logs.filter((args) => typeof args[0] === "string").map((args) => args[0]);
      // A forest reports after each batch of trees, the last at 200/200.
      const done = progress.map((line) => Number(/^(\d+)\/200$/.exec(String(line))?.[1]));
      assert.ok(done.length > 0 && done.every((n, i) => n > (done[i - 1] ?? 0)), `${progress}`);
      assert.equal(done.at(-1), 200);
      const [oobScore, importances] = logs.at(-1)!;
      assert.ok(typeof oobScore === "number" && importances instanceof Float32Array);
    },
  },
  {
    key: "const phi = await model.predictContributions([[3, 1]]);",
    title: "TreeSHAP: contributions and interactions",
    claims: `
__claim(JSON.stringify(phi.shape) === "[1,3]", "phi is [1, 3]: " + phi.shape);
__claim(JSON.stringify(pairs.shape) === "[1,3,3]", "pairs is [1, 3, 3]: " + pairs.shape);
for (let f = 0; f < 3; f++) {
  const row = pairs.data.subarray(3 * f, 3 * f + 3).reduce((s, v) => s + v, 0);
  __claim(Math.abs(row - phi.data[f]) < 1e-5, "interaction row " + f + " sums to phi");
}
`,
    logs: (logs) => {
      assert.equal(logs.length, 1);
      assert.equal(logs[0][1], true, "x0 + x1 + bias is the margin");
    },
  },
  {
    key: "import { GaussianMixture, karrasSigmas, sample }",
    title: "sampling a Gaussian mixture with Heun",
    claims: `
__claim(x.length === 2000 && __finite(x), "x: 1000 × 2 finite values");
let __left = 0;
let __near = 0;
for (let i = 0; i < 1000; i++) {
  const [u, v] = [x[2 * i], x[2 * i + 1]];
  if (Math.hypot(u + 2, v) < 1) __left++;
  if (Math.min(Math.hypot(u + 2, v), Math.hypot(u - 2, v)) < 1) __near++;
}
__claim(__left >= 250 && __left <= 350, "about 30% of the rows near (−2, 0): " + __left);
__claim(__near >= 980, "the rows lie near a mode: " + __near);
const __sigmas = karrasSigmas({ steps: 18 });
__claim(__sigmas[0] === 80, "σ starts at 80: " + __sigmas[0]);
__claim(Math.abs(__sigmas.at(-2)! - 0.002) < 1e-9 && __sigmas.at(-1) === 0, "0.002, then 0");
const __few = await sample({
  denoiser: gmm.denoiser, batch: 10, dim: 2, sigmas: __sigmas, sampler: "heun", seed: 1,
});
__claim(__few.every((v, i) => v === x[i]), "sample i depends on (seed, i), not on the batch");
`,
    logs: (logs) => {
      assert.equal(logs.length, 18, "one onStep call per step");
      assert.deepEqual(logs.map((args) => args[0]), Array.from({ length: 18 }, (_, i) => i));
    },
  },
  {
    key: "import { classifierFreeGuidance, GaussianMixture, karrasSigmas, sample }",
    title: "guidance, inpainting and an abort signal",
    claims: `
__claim(x.length === 16 && __finite(x), "x: 8 × 2 finite values");
__claim(filled.length === 16, "filled: 8 × 2 values");
// Given x0 = 2, x1 follows the (2, 2) mode's N(2, 0.1) (std 0.32): rows 1.70 … 2.46 here.
let __sum = 0;
for (let i = 0; i < 8; i++) {
  __claim(filled[2 * i] === 2, "row " + i + " holds known exactly: " + filled[2 * i]);
  const second = filled[2 * i + 1];
  __claim(Math.abs(second - 2) < 0.75, "row " + i + " is (2, ≈2): " + second);
  __sum += second;
}
__claim(Math.abs(__sum / 8 - 2) < 0.25, "the second coordinates' mean is ≈2: " + __sum / 8);
`,
  },
];

/** The blocks that cannot run here. */
const SKIPPED: Skipped[] = [
  {
    key: `import { matmul } from "tessera-ml/edge";`,
    reason: "a workerd module (dist/edge/, a .wasm module import), run in workerd by tests/edge",
  },
];

/** Every fenced block of `markdown`; an `html` block's code is its module script, if any. */
function fencedBlocks(markdown: string): Block[] {
  const blocks: Block[] = [];
  const lines = markdown.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const open = /^(`{3,}|~{3,})\s*([\w-]*)/.exec(lines[i]);
    if (!open) continue;
    const fence = open[1];
    let end = i + 1;
    while (end < lines.length && !lines[end].trim().startsWith(fence)) end++;
    const lang = open[2].toLowerCase();
    let code = lines.slice(i + 1, end).join("\n");
    if (lang === "html") {
      code = /<script type="module">\n([\s\S]*?)<\/script>/.exec(code)?.[1] ?? "";
    }
    blocks.push({ line: i + 1, lang, code });
    i = end;
  }
  return blocks;
}

/** Imports of the package (npm, `npm:` or a CDN URL of the bundle), but not of `/edge`. */
const PACKAGE_IMPORT =
  /(["'])(?:npm:|https:\/\/[^"'\s]*\/)?tessera-ml(?:@[\w.-]+)?(?:\/dist\/tessera\.js)?\1/;

/** The example's module: header, prelude, the block with its imports on src/mod.ts, claims. */
function moduleSource(block: Block, example: Example | undefined): string {
  const code = block.code.replaceAll(new RegExp(PACKAGE_IMPORT, "g"), JSON.stringify(MOD));
  return [HEADER, example?.prelude ?? "", code, example?.claims ?? "", "export {};\n"].join("\n");
}

/** Runs the example as a module of its own; returns its console.log calls' arguments. */
async function runExample(block: Block, example: Example | undefined): Promise<unknown[][]> {
  const path = await Deno.makeTempFile({ prefix: "readme_example_", suffix: ".ts" });
  const logs: unknown[][] = [];
  const log = console.log;
  try {
    await Deno.writeTextFile(path, moduleSource(block, example));
    if (example?.init) await init(example.init);
    console.log = (...args: unknown[]) => void logs.push(args);
    await import(pathToFileURL(path).href);
    // Once a Deno process has asked for a WebGPU device it may abort at exit (see `init`).
    const adapter = runtimeInfo().gpuAdapter;
    if (adapter !== null) {
      throw new Error(`It asked for a WebGPU device (${adapter}): give it \`init: { backend }\``);
    }
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(`README.md line ${block.line}: ${message}`, { cause: error });
  } finally {
    console.log = log;
    await Deno.remove(path);
    await dispose();
  }
  return logs;
}

const fenced = fencedBlocks(await Deno.readTextFile(README));
/** The examples: `ts` and `js` blocks, and the module scripts of `html` ones. */
const blocks = fenced.filter((b) => ["ts", "js"].includes(b.lang) || (b.lang === "html" && b.code));
const matches = (key: string) => blocks.filter((b) => b.code.includes(key));
const entryOf = (block: Block) =>
  [...EXAMPLES, ...SKIPPED].filter((entry) => block.code.includes(entry.key));

Deno.test("every README example runs here or is skipped with a reason", () => {
  const problems: string[] = [];
  for (const block of fenced) {
    if (["javascript", "typescript", "mjs", "mts", "jsx", "tsx"].includes(block.lang)) {
      problems.push(`README.md line ${block.line}: tag it \`ts\` or \`js\` so that it is run`);
    }
  }
  for (const entry of [...EXAMPLES, ...SKIPPED]) {
    const found = matches(entry.key).length;
    if (found !== 1) problems.push(`${JSON.stringify(entry.key)} matches ${found} blocks, not 1`);
  }
  for (const block of blocks) {
    const first = block.code.trim().split("\n")[0];
    if (entryOf(block).length !== 1) {
      problems.push(`README.md line ${block.line} (${first}): list it in EXAMPLES or SKIPPED`);
    }
  }
  for (const example of EXAMPLES) {
    if ((example.prelude === undefined) !== (example.needs === undefined)) {
      problems.push(`${example.title}: a prelude goes with \`needs\`, its reason`);
    }
  }
  for (const skip of SKIPPED) if (!skip.reason) problems.push(`${skip.key}: no reason`);
  assert.deepEqual(problems, []);
});

for (const block of blocks) {
  const [entry] = entryOf(block);
  const example = EXAMPLES.find((e) => e === entry);
  const skipped = SKIPPED.find((s) => s === entry);
  const standalone = PACKAGE_IMPORT.test(block.code);
  const first = block.code.trim().split("\n")[0].replace(/\s+\/\/ .*$/, "");
  const name = `README example at line ${block.line}: ${example?.title ?? first}`;
  // A block not listed fails the inventory test above; it still runs if it imports the package.
  const reason = skipped?.reason ?? (example || standalone ? null : "not listed, no import");
  Deno.test(skippable(name, reason, async () => {
    const logs = await runExample(block, example);
    example?.logs?.(logs);
  }));
}
