/**
 * The memory soak in Deno on the sources (src/mod.ts): each call family of _memory_cases.mjs in
 * a fresh Deno process, warmed up, then 20,000 calls; fails when the resident set after a full
 * GC grows by more than 5 MiB (what is compared: _memory_soak.mjs). Not part of `npm test`
 * (several minutes): `npm run soak` runs it. The options, and why V8's young generation has a
 * fixed size: see memory_soak.mjs (the Node driver).
 *
 * Usage: deno run -A tests/soak/memory_soak.ts [--family TEXT] [--calls N] [--warmup N]
 *          [--rounds N] [--window N] [--limit-mib N] [--young MiB]
 *
 * @module
 */
import { FAMILIES } from "./_memory_cases.mjs";
import { describe, soakFamily } from "./_memory_soak.mjs";
import { childArgs, parseArgs, RESULT, selectFamilies, v8Flags } from "./_cli.mjs";

type Measurement = { bytes: number; detail: string };
const gc = (globalThis as { gc?: () => void }).gc;
const opts = parseArgs(Deno.args);
type Prepare = (lib: unknown) => unknown;
const families = FAMILIES as Record<string, Prepare>;

function measure(): Promise<Measurement> {
  for (let i = 0; i < 3; i++) gc!();
  const m = Deno.memoryUsage();
  const mib = (b: number) => (b / 2 ** 20).toFixed(1);
  return Promise.resolve({
    bytes: m.rss,
    detail: `JS heap ${mib(m.heapUsed)} of ${mib(m.heapTotal)} MiB`,
  });
}

if (opts.child !== null) {
  if (gc === undefined) throw new Error("Run the soak child with --v8-flags=--expose-gc");
  const lib = await import("../../src/mod.ts");
  await lib.init();
  const result = await soakFamily(families[opts.child], lib, measure, opts);
  await lib.dispose();
  console.log(RESULT + JSON.stringify(result));
} else {
  const names = selectFamilies(Object.keys(families), opts.family);
  let failed = 0;
  const young = opts.young ? `${opts.young} MiB semi-spaces` : "sized by V8";
  console.log(`memory soak, Deno ${Deno.version.deno}, young generation ${young}`);
  for (const name of names) {
    const child = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        `--v8-flags=${v8Flags(opts.young).join(",")}`,
        new URL(import.meta.url).pathname,
        ...childArgs(opts, name),
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stdout = new TextDecoder().decode(child.stdout);
    const line = stdout.split("\n").find((l) => l.startsWith(RESULT));
    if (child.code !== 0 || line === undefined) {
      failed++;
      const stderr = new TextDecoder().decode(child.stderr);
      console.log(`FAIL deno ${name}: the soak process exited with code ${child.code}\n${stderr}`);
      continue;
    }
    const text = describe(`deno ${name}`, JSON.parse(line.slice(RESULT.length)), opts.limitMiB);
    if (text.startsWith("FAIL")) failed++;
    console.log(text);
  }
  console.log(`${names.length - failed} passed, ${failed} failed`);
  Deno.exit(failed > 0 ? 1 : 0);
}
