/**
 * The test command (`npm test`, `deno task test`): builds, type-checks, runs every Deno suite and
 * the JSDoc examples, then the built bundle in headless Chromium, in workerd and in Node 20, and
 * finally the packed package the way users install it (tests/package/).
 * Ends with one plain line `N passed, N failed`.
 *
 * Usage: deno run -A tests/run_all.ts [--skip-build] [--only deno|browser|edge|node|package]
 */
import { build } from "../build.ts";

const root = new URL("..", import.meta.url).pathname;
const deno = Deno.execPath();
const args = new Set(Deno.args);
const only = Deno.args.includes("--only") ? Deno.args[Deno.args.indexOf("--only") + 1] : null;

let passed = 0;
let failed = 0;
const failures: string[] = [];

function tally(suite: string, ok: number, bad: number, names: string[] = []) {
  passed += ok;
  failed += bad;
  failures.push(...names.map((n) => `${suite}: ${n}`));
  console.log(`[${suite}] ${ok} passed, ${bad} failed`);
}

async function exec(cmd: string, cmdArgs: string[], env: Record<string, string> = {}) {
  const child = new Deno.Command(cmd, {
    args: cmdArgs,
    cwd: root,
    env,
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  // Stream stdout through while keeping it for parsing.
  let text = "";
  const decoder = new TextDecoder();
  for await (const chunk of child.stdout) {
    const s = decoder.decode(chunk, { stream: true });
    text += s;
    await Deno.stdout.write(chunk);
  }
  const { code } = await child.status;
  return { code, text };
}

/** Counts test cases and failures in Deno's JUnit report. */
async function junit(path: string): Promise<{ ok: number; bad: number; names: string[] }> {
  const xml = await Deno.readTextFile(path);
  const cases = [...xml.matchAll(/<testcase\b[^>]*name="([^"]*)"[^>]*?(\/>|>([\s\S]*?)<\/testcase>)/g)];
  let ok = 0, bad = 0;
  const names: string[] = [];
  for (const c of cases) {
    const body = c[3] ?? "";
    if (/<skipped/.test(body)) continue;
    if (/<failure|<error/.test(body)) {
      bad++;
      names.push(c[1]);
    } else ok++;
  }
  return { ok, bad, names };
}

/** The .ts files under a folder of the project, recursively. */
function* walkTs(dir: string): Generator<string> {
  for (const entry of Deno.readDirSync(`${root}${dir}`)) {
    const path = `${dir}/${entry.name}`;
    if (path === "tests/package/consumer") continue; // checked against the installed package
    if (entry.isDirectory) yield* walkTs(path);
    else if (entry.name.endsWith(".ts")) yield path;
  }
}

/** Runs a harness that prints `ok <name>` / `FAIL <name>` lines. */
async function harness(suite: string, cmd: string, cmdArgs: string[]) {
  const { code, text } = await exec(cmd, cmdArgs);
  const ok = [...text.matchAll(/^ok (.*)$/gm)].length;
  const bad = [...text.matchAll(/^FAIL (.*)$/gm)].map((m) => m[1]);
  if (code !== 0 && bad.length === 0) bad.push(`harness exited with code ${code}`);
  tally(suite, ok, bad.length, bad);
}

if (!args.has("--skip-build")) {
  console.log("building…");
  await build();
}

if (!only || only === "deno") {
  const tsFiles = [...walkTs("tests"), ...walkTs("bench")];
  const check = await exec(deno, ["check", "src/mod.ts", "build.ts", ...tsFiles]);
  if (check.code === 0) tally("typecheck", 1, 0);
  else tally("typecheck", 0, 1, ["deno check"]);
  const report = `${root}build/junit.xml`;
  await Deno.remove(report).catch(() => {});
  await exec(deno, [
    "test", "-A", "--no-check", "--doc", "--parallel", `--junit-path=${report}`,
    "--ignore=tests/browser,tests/edge,tests/node", "tests/", "src/",
  ], { DENO_JOBS: "2" });
  try {
    const { ok, bad, names } = await junit(report);
    tally("deno", ok, bad, names);
  } catch {
    tally("deno", 0, 1, ["deno test stopped before running (see the error above)"]);
  }
}
if (!only || only === "node") await harness("node", "node", ["tests/node/node_test.mjs"]);
if (!only || only === "browser") await harness("browser", "node", ["tests/browser/browser_test.mjs"]);
if (!only || only === "edge") await harness("edge", "node", ["tests/edge/edge_test.mjs"]);
if (!only || only === "package") await harness("package", "node", ["tests/package/package_test.mjs"]);

if (failures.length) console.log(`\nfailed:\n  ${failures.join("\n  ")}`);
console.log(`${passed} passed, ${failed} failed`);
Deno.exit(failed === 0 ? 0 : 1);
