/**
 * `npm run bench`: runs every benchmark suite in one process and prints markdown tables.
 * With `--readme`, also writes each table into README.md between its markers
 * `<!-- bench:NAME -->` and `<!-- /bench:NAME -->`.
 *
 * Usage: deno run -A bench/run.ts [--readme] [--only NAME] [--threads 1,2,4]
 *
 * @module
 */
import { machine } from "./_harness.ts";
import { benchMatmul } from "./matmul_bench.ts";
import { benchAttention } from "./attention_bench.ts";
import { benchDiffusion, benchDiffusionAccuracy } from "./diffusion_bench.ts";

/** The suites, by name. Each returns a markdown table. */
export const SUITES: Record<string, () => Promise<string>> = {
  matmul: benchMatmul,
  attention: benchAttention,
  diffusion: benchDiffusion,
  "diffusion-accuracy": benchDiffusionAccuracy,
  trees: () => import("./trees_bench.ts").then((m) => m.benchTrees()),
  "split-search": () => import("./split_search_bench.ts").then((m) => m.benchSplitSearch()),
  ensembles: () => import("./ensembles_bench.ts").then((m) => m.benchEnsembles()),
  explain: () => import("./explain_bench.ts").then((m) => m.benchExplain()),
  browser: benchBrowser,
  firefox: () => nodeScript("./browser_bench.mjs", ["--browser", "firefox"]),
  webkit: () => nodeScript("./browser_bench.mjs", ["--browser", "webkit"]),
  threads: () => import("./threads_bench.ts").then((m) => m.benchThreads()),
  node: () => nodeScript("./node_bench.mjs"),
  bounds: () => import("./bounds_bench.ts").then((m) => m.benchBounds()),
};

/** The attention and matmul tables in headless Chromium (bench/browser_bench.mjs, under Node). */
function benchBrowser(): Promise<string> {
  return nodeScript("./browser_bench.mjs");
}

/** Runs a bench script under Node with `extra` arguments, passing on --threads; returns what it printed. */
async function nodeScript(relative: string, extra: string[] = []): Promise<string> {
  const script = new URL(relative, import.meta.url).pathname;
  const at = Deno.args.indexOf("--threads");
  const args = at >= 0 ? [script, ...extra, "--threads", Deno.args[at + 1]] : [script, ...extra];
  const { code, stdout } = await new Deno.Command("node", { args, stderr: "inherit" }).output();
  if (code !== 0) throw new Error(`bench/${relative.slice(2)} exited with code ${code}`);
  return new TextDecoder().decode(stdout).trim();
}

const only = Deno.args.includes("--only") ? Deno.args[Deno.args.indexOf("--only") + 1] : null;
const readmePath = new URL("../README.md", import.meta.url);
console.log(`# Tessera benchmarks — ${machine()}\n`);
for (const [name, suite] of Object.entries(SUITES)) {
  if (only && only !== name) continue;
  console.log(`## ${name}\n`);
  const text = await suite();
  console.log(`${text}\n`);
  if (Deno.args.includes("--readme")) {
    const readme = await Deno.readTextFile(readmePath);
    const open = `<!-- bench:${name} -->`, close = `<!-- /bench:${name} -->`;
    const i = readme.indexOf(open), j = readme.indexOf(close);
    if (i < 0 || j < i) {
      console.warn(`README.md has no ${open} … ${close} section: not written`);
      continue;
    }
    const stamp = `\n_Measured by \`npm run bench -- --only ${name}\` — ${machine()}._\n\n`;
    await Deno.writeTextFile(readmePath, readme.slice(0, i + open.length) + stamp + text + "\n" + readme.slice(j));
  }
}
