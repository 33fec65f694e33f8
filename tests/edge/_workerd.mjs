// Starts workerd (from npm) on 127.0.0.1 with a worker that imports dist/edge/ — no wrangler,
// a capnp config alone. Shared by the edge test and `npm run bench:edge`.
import { spawn } from "node:child_process";
import { copyFile, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = new URL("../../", import.meta.url);

function freePort() {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/**
 * Runs workerd on a free local port over `dir`, whose files `modules` lists in order (the first
 * is the worker's entry): `[name, "esModule" | "wasm"]`. Resolves once it answers; `stop()`
 * ends it.
 */
export async function serveWorkerd(dir, modules) {
  const port = await freePort();
  const list = modules.map(([name, kind]) => `    (name = "${name}", ${kind} = embed "${name}"),\n`).join("");
  await writeFile(join(dir, "config.capnp"), `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [(name = "main", worker = .worker)],
  sockets = [(name = "http", address = "127.0.0.1:${port}", http = (), service = "main")],
);
const worker :Workerd.Worker = (
  modules = [
${list}  ],
  compatibilityDate = "2025-01-01",
);
`);
  const bin = fileURLToPath(new URL("node_modules/.bin/workerd", root));
  const child = spawn(bin, ["serve", join(dir, "config.capnp")], { stdio: ["ignore", "inherit", "inherit"] });
  const url = `http://127.0.0.1:${port}/`;
  for (let i = 0; i < 100; i++) {
    try {
      await fetch(url, { method: "POST", body: JSON.stringify({ op: "ping" }) });
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return { url, stop: () => child.kill() };
}

/**
 * Starts workerd serving `workerFile` (an ES module beside which tessera.js/.wasm are put);
 * `modules` maps the names of further ES modules the worker imports to their file URLs.
 */
export async function startWorkerd(workerFile, modules = {}) {
  const dir = await mkdtemp(join(tmpdir(), "tessera-workerd-"));
  await copyFile(fileURLToPath(new URL("dist/edge/tessera.js", root)), join(dir, "tessera.js"));
  await copyFile(fileURLToPath(new URL("dist/edge/tessera.wasm", root)), join(dir, "tessera.wasm"));
  await copyFile(fileURLToPath(workerFile), join(dir, "worker.js"));
  for (const [name, url] of Object.entries(modules)) await copyFile(fileURLToPath(url), join(dir, name));
  const server = await serveWorkerd(dir, [
    ["worker.js", "esModule"], ["tessera.js", "esModule"], ["tessera.wasm", "wasm"],
    ...Object.keys(modules).map((name) => [name, "esModule"]),
  ]);
  return {
    url: server.url,
    async call(op, ...args) {
      const res = await fetch(server.url, { method: "POST", body: JSON.stringify({ op, args }) });
      if (!res.ok) throw new Error(`workerd ${op}: ${res.status} ${await res.text()}`);
      return res.json();
    },
    async stop() {
      server.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
