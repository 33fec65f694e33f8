/**
 * Node's built-in modules, imported at run time only where the code runs in Node.
 *
 * The specifier is computed so that bundlers (esbuild, webpack, Vite) building Tessera into a
 * browser app leave the import alone instead of failing on a `node:` module they cannot
 * resolve; the comments tell webpack and Vite not to warn about it either.
 *
 * @module
 */

type NodeModules = {
  os: typeof import("node:os");
  worker_threads: typeof import("node:worker_threads");
};

/** `import("node:<name>")`, invisible to bundlers. */
export function importNode<N extends keyof NodeModules>(name: N): Promise<NodeModules[N]> {
  const specifier = `node:${name}`;
  return import(/* webpackIgnore: true */ /* @vite-ignore */ specifier);
}
