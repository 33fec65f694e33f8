// Deno's results of the bundle cases, for the Node, browser and edge harnesses: read from the
// file tests/run_all.ts wrote for this run (TESSERA_BUNDLE_EXPECTED), or computed now by running
// tests/bundle/expected.ts with the project's Deno when a harness runs on its own.
import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { compareResult } from "./cases.mjs";

const root = new URL("../../", import.meta.url);

/**
 * Per WASM build (`simd`, `relaxed`): name → { value } | { error }, as Deno got them from src/.
 */
export async function denoExpected() {
  const file = process.env.TESSERA_BUNDLE_EXPECTED;
  if (file) return JSON.parse(await readFile(file, "utf8"));
  const deno = fileURLToPath(new URL("tools/node_modules/.bin/deno", root));
  const script = fileURLToPath(new URL("tests/bundle/expected.ts", root));
  const stdout = await new Promise((resolve, reject) =>
    execFile(deno, ["run", "-A", script], { cwd: fileURLToPath(root), maxBuffer: 64 << 20 }, (e, out) =>
      e ? reject(e) : resolve(out))
  );
  return JSON.parse(stdout);
}

/**
 * Registers one check per case: the runtime's result must match Deno's within `rtol` (0: the
 * same numbers exactly). `actual` and `expected` map names to { value } | { error }.
 */
export async function checkCases(test, label, actual, expected, rtol = 0) {
  for (const [name, want] of Object.entries(expected)) {
    await test(`${label}: ${name} matches Deno on src/`, () => {
      if ("error" in want) throw new Error(`Deno itself failed this case: ${want.error}`);
      const got = actual?.[name];
      if (got === undefined) throw new Error("the case did not run");
      if ("error" in got) throw new Error(got.error);
      const difference = compareResult(got.value, want.value, rtol);
      if (difference !== null) throw new Error(`differs at ${difference}`);
    });
  }
}
