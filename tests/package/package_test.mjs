// The package as users get it: `npm pack`, then, in a temporary folder and offline, an empty
// project installs the tarball (scripts on) and uses it from Node, from strict TypeScript, from
// Deno, through a bundler in Chromium, and at the edge in workerd.
// Expects a built dist/ (tests/run_all.ts builds first). Prints `ok <name>` / `FAIL <name>`.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { launchChromium } from "../_chromium.mjs";
import { test } from "../_harness.mjs";
import { serveWorkerd } from "../edge/_workerd.mjs";

const run = promisify(execFile);
const root = fileURLToPath(new URL("../../", import.meta.url));
const here = fileURLToPath(new URL("./consumer/", import.meta.url));
const work = await mkdtemp(join(tmpdir(), "tessera-package-"));
const project = join(work, "consumer");
const sh = (cmd, args, cwd, timeout = 180_000) =>
  run(cmd, args, { cwd, timeout, maxBuffer: 64 << 20, env: { ...process.env, npm_config_update_notifier: "false" } });

let tarball = null;
let installed = false;

try {
  await test("package: npm pack ships dist/ with declarations, named tessera-ml, no install scripts", async () => {
    const { stdout } = await sh("npm", ["pack", "--json", "--ignore-scripts", "--pack-destination", work], root);
    const [packed] = JSON.parse(stdout);
    assert.equal(packed.name, "tessera-ml");
    tarball = join(work, packed.filename);
    const files = packed.files.map((f) => f.path).sort();
    for (
      const f of [
        "package.json", "README.md", "LICENSE", "dist/tessera.js", "dist/tessera.d.ts", "dist/tessera.simd.js",
        "dist/tessera.relaxed.js", "dist/edge/tessera.js", "dist/edge/tessera.d.ts", "dist/edge/tessera.wasm",
      ]
    ) assert.ok(files.includes(f), `${f} is in the tarball`);
    assert.deepEqual(files.filter((f) => /^(src|tools|tests|assembly|bench|build)\//.test(f)), []);
    const manifest = JSON.parse(await readFile(join(root, "package.json"), "utf8"));
    for (const hook of ["preinstall", "install", "postinstall"]) assert.equal(manifest.scripts[hook], undefined, hook);
    assert.equal(manifest.exports["."].types, "./dist/tessera.d.ts");
    assert.equal(manifest.sideEffects, false);
    const bundle = await readFile(join(root, "dist/tessera.js"), "utf8");
    assert.ok(bundle.startsWith(`/* @ts-self-types="./tessera.d.ts" */`));
  });

  await test("package: an empty project installs the tarball offline, scripts on", async () => {
    assert.ok(tarball, "packed");
    await mkdir(project, { recursive: true });
    await writeFile(join(project, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }));
    for (const f of ["consumer.ts", "run.mjs", "deno_consumer.ts", "app.js", "edge_worker.js"]) {
      await copyFile(join(here, f), join(project, f));
    }
    // Offline: the runtime dependencies come as tarballs packed from this checkout's node_modules
    // (the registry's metadata is not in npm's cache after a lockfile install).
    const { dependencies } = JSON.parse(await readFile(join(root, "package.json"), "utf8"));
    assert.deepEqual(Object.keys(dependencies), ["comlink"], "the package needs comlink alone");
    const deps = [];
    for (const name of Object.keys(dependencies)) {
      const { stdout } = await sh("npm", ["pack", "--json", "--ignore-scripts", "--pack-destination", work, join(root, "node_modules", name)], work);
      deps.push(join(work, JSON.parse(stdout)[0].filename));
    }
    const { stderr } = await sh("npm", ["install", ...deps, tarball, "--offline", "--no-audit", "--no-fund"], project);
    assert.doesNotMatch(stderr, /tessera-ml@[^ ]* \((pre|post)?(install|prepare)/, "no install-time script of ours is listed");
    const installedManifest = JSON.parse(await readFile(join(project, "node_modules/tessera-ml/package.json"), "utf8"));
    assert.equal(installedManifest.name, "tessera-ml");
    installed = true;
  });

  await test("package: Node imports tessera-ml and fits, attends and samples", async () => {
    assert.ok(installed, "installed");
    const started = Date.now();
    const { stdout } = await sh("node", ["run.mjs"], project, 120_000);
    const elapsed = Date.now() - started;
    const r = JSON.parse(stdout.trim().split("\n").at(-1));
    assert.equal(r.rounds, 30);
    assert.ok(r.accuracy >= 0.95, `training accuracy ${r.accuracy}`);
    assert.ok(r.attentionError < 1e-5, `attention error ${r.attentionError}`);
    assert.deepEqual(r.linearShape, [1, 2, 33, 8]);
    assert.equal(r.nearMode, 64);
    assert.equal(r.threads, 2);
    assert.equal(r.simd, true);
    assert.ok(elapsed < 60_000, `the process exited by itself, without dispose(), after ${elapsed} ms`);
  });

  const tsc = (config) => async () => {
    assert.ok(installed, "installed");
    const file = `tsconfig.${config.moduleResolution}.json`;
    await writeFile(join(project, file), JSON.stringify({
      compilerOptions: {
        strict: true, noEmit: true, target: "es2022", lib: ["es2022", "dom"], types: [],
        skipLibCheck: false, ...config,
      },
      files: ["consumer.ts"],
    }));
    try {
      await sh("node", [join(root, "node_modules/typescript/bin/tsc"), "-p", file], project);
    } catch (e) {
      throw new Error(`tsc failed:\n${e.stdout}${e.stderr}`);
    }
  };
  await test("package: tsc --strict type-checks a consumer (moduleResolution nodenext)", tsc({ module: "nodenext", moduleResolution: "nodenext" }));
  await test("package: tsc --strict type-checks a consumer (moduleResolution bundler)", tsc({ module: "esnext", moduleResolution: "bundler" }));

  await test("package: the TypeScript consumer touches every name the declarations export", async () => {
    const declarations = await readFile(join(root, "dist/tessera.d.ts"), "utf8");
    const names = [...declarations.matchAll(/^export (?:type )?\{([^}]*)\};$/gm)]
      .flatMap((m) => m[1].split(",").map((s) => s.trim().split(/\s+as\s+/).at(-1)));
    assert.ok(names.length > 50, `${names.length} exports`);
    const consumer = await readFile(join(here, "consumer.ts"), "utf8");
    assert.deepEqual(names.filter((n) => !new RegExp(`\\b${n}\\b`).test(consumer)), []);
  });

  await test("package: deno check accepts a consumer of dist/tessera.js through @ts-self-types", async () => {
    assert.ok(installed, "installed");
    const deno = process.env.DENO_BIN ?? join(root, "tools/node_modules/.bin/deno");
    try {
      await sh(deno, ["check", "--no-config", "deno_consumer.ts"], project);
    } catch (e) {
      throw new Error(`deno check failed:\n${e.stdout}${e.stderr}`);
    }
  });

  await test("package: esbuild bundles a browser app importing tessera-ml; it runs in Chromium", async () => {
    assert.ok(installed, "installed");
    const esbuild = await import(join(root, "node_modules/esbuild/lib/main.js"));
    const web = join(work, "web");
    const common = { entryPoints: [join(project, "app.js")], bundle: true, format: "esm", platform: "browser", absWorkingDir: project, logLevel: "error" };
    await esbuild.build({ ...common, outfile: join(web, "one/app.js") });
    await esbuild.build({ ...common, outdir: join(web, "split"), splitting: true });
    const html = `<!doctype html><title>app</title><script type="module" src="app.js"></script>`;
    const server = createServer(async (req, res) => {
      const path = new URL(req.url, "http://x").pathname;
      const isolation = {
        "cross-origin-opener-policy": "same-origin", "cross-origin-embedder-policy": "require-corp",
      };
      try {
        const body = path.endsWith("/") ? html : await readFile(join(web, path));
        res.writeHead(200, { "content-type": path.endsWith("/") ? "text/html" : "text/javascript", ...isolation });
        res.end(body);
      } catch {
        res.writeHead(404).end();
      }
    });
    await new Promise((r) => server.listen(0, "127.0.0.1", r));
    const browser = await launchChromium();
    try {
      for (const layout of ["one", "split"]) {
        const tab = await browser.newPage();
        const errors = [];
        tab.on("pageerror", (e) => errors.push(e));
        await tab.goto(`http://127.0.0.1:${server.address().port}/${layout}/`);
        await tab.waitForFunction(() => globalThis.result, null, { timeout: 60_000 });
        const r = await tab.evaluate(() => globalThis.result);
        assert.equal(r.error, undefined, r.error);
        assert.deepEqual(errors, []);
        assert.equal(r.info.threads, 2, layout);
        assert.equal(r.info.sharedMemory, true, layout);
        assert.equal(r.info.relaxedSimd, true, layout);
        assert.ok(r.matmulError < 1e-3, `${layout}: matmul error ${r.matmulError}`);
        assert.ok(r.rmse < 0.3, `${layout}: rmse ${r.rmse}`);
        await tab.close();
      }
    } finally {
      await browser.close();
      server.close();
    }
  });

  await test("package: tessera-ml/edge from the installed package runs in workerd", async () => {
    assert.ok(installed, "installed");
    const esbuild = await import(join(root, "node_modules/esbuild/lib/main.js"));
    const out = join(work, "edge");
    // As wrangler does: the worker is bundled, each .wasm import stays a module of its own.
    const wasmModules = {
      name: "wasm-modules",
      setup(build) {
        build.onResolve({ filter: /\.wasm$/ }, async (args) => {
          await mkdir(out, { recursive: true });
          await copyFile(join(args.resolveDir, args.path), join(out, "tessera.wasm"));
          return { path: "./tessera.wasm", external: true };
        });
      },
    };
    await esbuild.build({
      entryPoints: [join(project, "edge_worker.js")], bundle: true, format: "esm", platform: "neutral",
      mainFields: ["module", "main"], conditions: ["workerd", "worker"], outfile: join(out, "worker.js"),
      absWorkingDir: project, plugins: [wasmModules], logLevel: "error",
    });
    const workerd = await serveWorkerd(out, [["worker.js", "esModule"], ["tessera.wasm", "wasm"]]);
    try {
      const response = await fetch(workerd.url);
      const text = await response.text();
      assert.equal(response.status, 200, text);
      const r = JSON.parse(text);
      assert.equal(r.info.wasmVariant, "simd");
      assert.ok(r.matmulError < 1e-3, `matmul error ${r.matmulError}`);
      assert.ok(Math.abs(r.p - 1) < 0.1, `prediction ${r.p}`);
    } finally {
      workerd.stop();
    }
  });
} finally {
  await rm(work, { recursive: true, force: true });
}
