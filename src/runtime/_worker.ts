/**
 * The worker: one WASM instance that runs kernel tasks sent through comlink. Bundled by build.ts
 * into the worker source that dist/tessera.js starts from a blob: (web) or data: (Node) URL.
 *
 * @module
 */
import * as Comlink from "comlink";
import { listen } from "./_doorbell.ts";
import { nodeEndpoint, type NodePort } from "./_endpoint.ts";
import { type StagedReply, type Task, taskFailure, type WorkerApi } from "./_task.ts";
import { importNode } from "./_node.ts";
import { locks } from "./_locks.ts";
import { tuneInstance } from "./_engine.ts";

type Kernel = (...args: number[]) => void;
let exports: Record<string, Kernel> = {};
let memory: WebAssembly.Memory | null = null;

/**
 * Grows the private memory to `bytes`; a refusal (the maximum reached, the host out of memory)
 * is a RangeError.
 */
function ensureSize(bytes: number): void {
  const have = memory!.buffer.byteLength;
  if (bytes <= have) return;
  try {
    memory!.grow(Math.ceil((bytes - have) / 65536));
  } catch (error) {
    const reason = (error as Error)?.message ?? error;
    throw new RangeError(`WASM memory could not grow from ${have} to ${bytes} bytes: ${reason}`);
  }
}

/** Runs one task; a failure (a trap, memory that cannot grow) names its kernel, keeps its kind. */
function runTask(task: Task, body: () => void): void {
  try {
    body();
  } catch (error) {
    const failure = taskFailure(error, task.kernel);
    throw Object.assign(new Error(failure.message), { name: failure.name });
  }
}

const api: WorkerApi = {
  init(module, sharedMemory, maximumPages) {
    memory = sharedMemory ?? new WebAssembly.Memory({ initial: 1, maximum: maximumPages });
    const instance = new WebAssembly.Instance(module, { env: { memory } });
    exports = instance.exports as Record<string, Kernel>;
    tuneInstance(exports);
  },
  run(tasks) {
    for (const task of tasks) runTask(task, () => exports[task.kernel](...task.args));
  },
  listen(block, kernels, port) {
    void listen(block, kernels, exports, port ?? null);
  },
  runStaged(task: Task, staging) {
    const start = performance.now();
    runTask(task, () => {
      const regions = [...(task.inputs ?? []), ...(task.outputs ?? []), ...(task.scratch ?? [])];
      ensureSize(Math.max(0, ...regions.map(([offset, bytes]) => offset + bytes)));
      let at = 0;
      for (const [offset, bytes] of task.inputs ?? []) {
        new Uint8Array(memory!.buffer, offset, bytes).set(new Uint8Array(staging, at, bytes));
        at += bytes;
      }
      exports[task.kernel](...task.args);
    });
    let outputs = task.outputs ?? [];
    let fresh: StagedReply["fresh"];
    if (task.fresh !== undefined && outputs.length > 0) {
      const t0 = performance.now();
      const buffer = new ArrayBuffer(task.fresh.bytes);
      const words = new Int32Array(buffer);
      for (let i = 0; i < words.length; i += 1024) words[i] = 0;
      fresh = { buffer, touchMs: performance.now() - t0 };
      const [offset, bytes] = outputs[0];
      new Uint8Array(buffer, task.fresh.at, bytes).set(
        new Uint8Array(memory!.buffer, offset, bytes),
      );
      outputs = outputs.slice(1);
    }
    const need = outputs.reduce((total, [, bytes]) => total + bytes, 0);
    const back = staging.byteLength >= need ? staging : new ArrayBuffer(need);
    let at = 0;
    for (const [offset, bytes] of outputs) {
      new Uint8Array(back, at, bytes).set(new Uint8Array(memory!.buffer, offset, bytes));
      at += bytes;
    }
    const reply: StagedReply = { back, ms: performance.now() - start, fresh };
    return Comlink.transfer(reply, fresh ? [back, fresh.buffer] : [back]);
  },
  holdLock(name) {
    const hostLocks = locks();
    if (hostLocks === null) return Promise.resolve(false);
    return new Promise<boolean>((held) => {
      void hostLocks.request(name, () => {
        held(true);
        return new Promise<never>(() => {});
      });
    });
  },
};

const scope = globalThis as unknown as { postMessage?: unknown };
if (typeof scope.postMessage === "function") {
  Comlink.expose(api);
} else {
  const { parentPort } = await importNode("worker_threads");
  Comlink.expose(api, nodeEndpoint(parentPort as unknown as NodePort));
}
