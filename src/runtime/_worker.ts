/**
 * The worker: one WASM instance that runs kernel tasks sent through comlink. Bundled by build.ts
 * into the worker source that dist/tessera.js starts from a blob: (web) or data: (Node) URL.
 *
 * @module
 */
import * as Comlink from "comlink";
import { listen } from "./_doorbell.ts";
import { nodeEndpoint, type NodePort } from "./_endpoint.ts";
import type { Task, WorkerApi } from "./_task.ts";
import { importNode } from "./_node.ts";

type Kernel = (...args: number[]) => void;
let exports: Record<string, Kernel> = {};
let memory: WebAssembly.Memory | null = null;

function ensureSize(bytes: number): void {
  const have = memory!.buffer.byteLength;
  if (bytes > have) memory!.grow(Math.ceil((bytes - have) / 65536));
}

const api: WorkerApi = {
  init(module, sharedMemory, maximumPages) {
    memory = sharedMemory ?? new WebAssembly.Memory({ initial: 1, maximum: maximumPages });
    const instance = new WebAssembly.Instance(module, { env: { memory } });
    exports = instance.exports as Record<string, Kernel>;
  },
  run(tasks) {
    for (const task of tasks) exports[task.kernel](...task.args);
  },
  listen(block, kernels) {
    void listen(block, kernels, exports);
  },
  runCopied(task: Task, inputs) {
    const regions = [...(task.inputs ?? []), ...(task.outputs ?? []), ...(task.scratch ?? [])];
    ensureSize(Math.max(0, ...regions.map(([offset, bytes]) => offset + bytes)));
    (task.inputs ?? []).forEach(([offset, bytes], i) => {
      new Uint8Array(memory!.buffer, offset, bytes).set(new Uint8Array(inputs[i]));
    });
    exports[task.kernel](...task.args);
    const outputs = (task.outputs ?? []).map(([offset, bytes]) =>
      memory!.buffer.slice(offset, offset + bytes) as ArrayBuffer
    );
    return Comlink.transfer(outputs, outputs);
  },
};

const scope = globalThis as unknown as { postMessage?: unknown };
if (typeof scope.postMessage === "function") {
  Comlink.expose(api);
} else {
  const { parentPort } = await importNode("worker_threads");
  Comlink.expose(api, nodeEndpoint(parentPort as unknown as NodePort));
}
