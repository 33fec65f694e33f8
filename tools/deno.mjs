// Runs the project's Deno (npm `deno`, kept in tools/ so that it stays out of the project's own
// node_modules/.bin, where it would break `deno task`), installing it there on first use.
// The npm scripts call it, so a fresh clone needs only `npm install && npm test`, and the
// published package carries no install-time script at all.
//
// Usage: node tools/deno.mjs <deno arguments…>
import { spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const tools = fileURLToPath(new URL(".", import.meta.url));
const deno = `${tools}node_modules/.bin/deno`;

if (!existsSync(deno)) {
  console.error("tools/: installing Deno from npm (once)…");
  const npm = process.platform === "win32" ? "npm.cmd" : "npm";
  const install = spawnSync(npm, ["--prefix", tools, "install", "--no-audit", "--no-fund", "--loglevel=error"], {
    stdio: "inherit",
  });
  if (install.status !== 0 || !existsSync(deno)) {
    console.error("tools/: could not install Deno (npm --prefix tools install failed)");
    process.exit(install.status || 1);
  }
}

const child = spawn(deno, process.argv.slice(2), { stdio: "inherit" });
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => child.kill(signal));
child.on("exit", (code, signal) => {
  if (signal) process.kill(process.pid, signal);
  else process.exit(code ?? 1);
});
