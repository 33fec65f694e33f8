/**
 * `npm start`: serves the playground at http://localhost:$PORT/ (default 8000).
 *
 * The page is cross-origin isolated (COOP `same-origin`, COEP `require-corp`), so the bundle's
 * workers share one WebAssembly.Memory; `/?isolated=0` serves the same page without those
 * headers, where workers get copies of their inputs instead. The page imports the built bundle
 * by URL (`/dist/tessera.js`, or any URL given as `?bundle=`), as a page importing it from a CDN
 * does. Only files of examples/playground/ and dist/ are served, and for the diffusion panel's
 * digits the ONNX networks of examples/digits/ (`/digits/<name>.onnx`) and the three files of
 * onnxruntime-web's WASM build it loads (`/ort/…`, from node_modules), so the page fetches
 * nothing from the network.
 *
 * Environment: PORT (default 8000; 0 picks a free port), HOST (default 127.0.0.1).
 *
 * @module
 */

const HERE = new URL("./", import.meta.url);
const DIST = new URL("../../dist/", import.meta.url);
const DIGITS = new URL("../digits/", import.meta.url);
const ORT = new URL("../../node_modules/onnxruntime-web/dist/", import.meta.url);

/**
 * onnxruntime-web's files the page loads: the WASM-only ES module build and the runtime it
 * imports (`ort.env.wasm.wasmPaths = "/ort/"`). Nothing else of node_modules is served.
 */
export const ORT_FILES: readonly string[] = [
  "ort.wasm.min.mjs",
  "ort-wasm-simd-threaded.mjs",
  "ort-wasm-simd-threaded.wasm",
];

const TYPES: Record<string, string> = {
  html: "text/html; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  mjs: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
  json: "application/json",
  map: "application/json",
  csv: "text/csv; charset=utf-8",
  png: "image/png",
  svg: "image/svg+xml",
  ts: "text/plain; charset=utf-8",
  wasm: "application/wasm",
  onnx: "application/octet-stream",
};

/** The file a URL path names, or null when it is outside the served folders. */
function resolve(pathname: string): URL | null {
  const path = decodeURIComponent(pathname);
  if (path.split("/").some((part) => part === ".." || part.startsWith("."))) return null;
  if (path === "/") return new URL("index.html", HERE);
  if (path.startsWith("/dist/")) return new URL(path.slice("/dist/".length), DIST);
  if (path.startsWith("/digits/")) {
    const name = path.slice("/digits/".length);
    return /^[\w-]+\.onnx$/.test(name) ? new URL(name, DIGITS) : null;
  }
  if (path.startsWith("/ort/")) {
    const name = path.slice("/ort/".length);
    return ORT_FILES.includes(name) ? new URL(name, ORT) : null;
  }
  return new URL(path.slice(1), HERE);
}

/** Answers one request: a file, with isolation headers unless the page asked for none. */
export async function handle(request: Request): Promise<Response> {
  const url = new URL(request.url);
  const file = resolve(url.pathname);
  if (request.method !== "GET" && request.method !== "HEAD") {
    return new Response("Method not allowed\n", { status: 405, headers: { allow: "GET, HEAD" } });
  }
  if (!file) return new Response("Not found\n", { status: 404 });
  const headers = new Headers({
    "content-type": TYPES[file.pathname.split(".").pop() ?? ""] ?? "application/octet-stream",
    "cache-control": "no-store",
    // Lets a page of another origin import the bundle, as from a CDN.
    "cross-origin-resource-policy": "cross-origin",
    "access-control-allow-origin": "*",
  });
  if (url.searchParams.get("isolated") !== "0") {
    headers.set("cross-origin-opener-policy", "same-origin");
    headers.set("cross-origin-embedder-policy", "require-corp");
  }
  try {
    const body = await Deno.readFile(file);
    return new Response(request.method === "HEAD" ? null : body, { headers });
  } catch (error) {
    if (error instanceof Deno.errors.NotFound || error instanceof Deno.errors.IsADirectory) {
      const hint = url.pathname.startsWith("/dist/")
        ? "Not found: build the bundle first (npm run build)\n"
        : url.pathname.startsWith("/ort/")
        ? "Not found: install the dependencies first (npm install)\n"
        : url.pathname.startsWith("/out/")
        ? "Not found: run deno run -A examples/playground/build.ts first\n"
        : "Not found\n";
      return new Response(hint, { status: 404 });
    }
    throw error;
  }
}

if (import.meta.main) {
  const port = Number(Deno.env.get("PORT") ?? 8000);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RangeError(
      `Expected "PORT" to be an integer in [0, 65535] but found ${Deno.env.get("PORT")}`,
    );
  }
  const hostname = Deno.env.get("HOST") ?? "127.0.0.1";
  try {
    await Deno.stat(new URL("tessera.js", DIST));
  } catch {
    console.warn("dist/tessera.js is missing: run `npm run build` (npm start does) first");
  }
  Deno.serve({
    port,
    hostname,
    onListen: ({ port }) => {
      const host = hostname === "127.0.0.1" || hostname === "0.0.0.0" ? "localhost" : hostname;
      console.log(
        `Tessera playground on http://${host}:${port}/ (cross-origin isolated; ` +
          `/?isolated=0 without isolation, /?autorun runs every panel)`,
      );
    },
  }, handle);
}
