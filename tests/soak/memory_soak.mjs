// The memory soak in Node on the built bundle (dist/tessera.js): each call family of
// _memory_cases.mjs in a fresh Node process, warmed up, then 20,000 calls; fails when the
// resident set after a full GC grows by more than 5 MiB (what is compared: _memory_soak.mjs).
// Not part of `npm test` (several minutes): `npm run soak` runs it.
//
// Usage: node tests/soak/memory_soak.mjs [--family TEXT] [--calls N] [--warmup N] [--rounds N]
//          [--window N] [--limit-mib N] [--young MiB]
//
// `--young` fixes the size of V8's semi-spaces, in the main thread and the pool's workers alike
// (default 1 MiB, the size V8 starts with; 0 leaves V8's own sizing). Under a steady stream of
// short-lived objects V8 grows a young generation step by step up to 16 MiB semi-spaces, in
// each thread, and does not shrink it while the program keeps allocating: up to ~30 MiB per
// thread added to the resident set at moments set by the allocation rate and the survival
// pattern of scavenges. That is bounded and is not memory anything keeps; fixed, the soak sees
// only what grows with the number of calls. (Fixed at 16 MiB instead, the workers' semi-spaces
// are touched page by page over tens of thousands of calls: the same one-off growth, slower.)
// The figures with V8's own sizing are worth a look too: `--young 0`. Every collection is a full
// one, in every thread (`--gc-global`, see _cli.mjs): the workers' garbage does not pile up.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { FAMILIES } from "./_memory_cases.mjs";
import { describe, soakFamily } from "./_memory_soak.mjs";
import { childArgs, parseArgs, RESULT, selectFamilies, v8Flags } from "./_cli.mjs";

const opts = parseArgs(process.argv.slice(2));

function measure() {
  for (let i = 0; i < 3; i++) globalThis.gc();
  const m = process.memoryUsage();
  const mib = (b) => (b / 2 ** 20).toFixed(1);
  return { bytes: m.rss, detail: `JS heap ${mib(m.heapUsed)} of ${mib(m.heapTotal)} MiB` };
}

if (opts.child !== null) {
  if (typeof globalThis.gc !== "function") throw new Error("Run the soak child with --expose-gc");
  const lib = await import(new URL("../../dist/tessera.js", import.meta.url).href);
  await lib.init();
  const result = await soakFamily(FAMILIES[opts.child], lib, measure, opts);
  await lib.dispose();
  console.log(RESULT + JSON.stringify(result));
} else {
  const names = selectFamilies(Object.keys(FAMILIES), opts.family);
  let failed = 0;
  console.log(
    `memory soak, Node ${process.version}, young generation ${
      opts.young ? `${opts.young} MiB semi-spaces` : "sized by V8"
    }`,
  );
  for (const name of names) {
    const { code, stdout, stderr } = await run(process.execPath, [
      ...v8Flags(opts.young),
      fileURLToPath(import.meta.url),
      ...childArgs(opts, name),
    ]);
    const line = stdout.split("\n").find((l) => l.startsWith(RESULT));
    if (code !== 0 || line === undefined) {
      failed++;
      console.log(`FAIL node ${name}: the soak process exited with code ${code}\n${stderr}`);
      continue;
    }
    const text = describe(`node ${name}`, JSON.parse(line.slice(RESULT.length)), opts.limitMiB);
    if (text.startsWith("FAIL")) failed++;
    console.log(text);
  }
  console.log(`${names.length - failed} passed, ${failed} failed`);
  process.exitCode = failed > 0 ? 1 : 0;
}

function run(command, args) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "", stderr = "";
    child.stdout.on("data", (d) => stdout += d);
    child.stderr.on("data", (d) => stderr += d);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}
