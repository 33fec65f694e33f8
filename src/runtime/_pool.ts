/**
 * The worker pool: N module workers, each with its own WASM instance, driven through comlink.
 * On shared memory a worker takes a list of tasks and runs them in place, rung through its
 * doorbell (_doorbell.ts: a futex word instead of a message) where the runtime can wait
 * asynchronously; elsewhere each task travels with copies of its input regions and sends its
 * output regions back.
 *
 * Tasks are dealt round-robin in their given order, so which worker runs which task is fixed by
 * the task list alone; tasks write disjoint outputs, so results never depend on the pool size.
 *
 * @module
 */
import * as Comlink from "comlink";
import { Doorbell, doorbellSupported } from "./_doorbell.ts";
import { nodeEndpoint, type NodePort } from "./_endpoint.ts";
import { WORKER_SOURCE, workerUrl } from "./_assets.ts";
import type { Features } from "./_features.ts";
import type { Task, WorkerApi } from "./_task.ts";
import { importNode } from "./_node.ts";

interface PoolWorker {
  api: Comlink.Remote<WorkerApi>;
  terminate(): void;
  /** Where task lists are rung on shared memory (absent: they go through comlink). */
  doorbell?: Doorbell;
}

let blobUrl: string | null = null;

// Captured at load: Emscripten-built peers (onnxruntime-web, tfjs threads) replace
// globalThis.Worker with Node's worker_threads class when they find `process` (as in Deno).
const WebWorker: typeof Worker | undefined = globalThis.Worker;

async function spawn(kind: "web" | "node"): Promise<PoolWorker> {
  if (kind === "node") {
    const { Worker } = await importNode("worker_threads");
    const url = WORKER_SOURCE !== null
      ? new URL(`data:text/javascript;base64,${btoa(unescape(encodeURIComponent(WORKER_SOURCE)))}`)
      : workerUrl()!;
    const worker = new Worker(url);
    worker.unref();
    return {
      api: Comlink.wrap<WorkerApi>(nodeEndpoint(worker as unknown as NodePort)),
      terminate: () => void worker.terminate(),
    };
  }
  let url: string | URL;
  if (WORKER_SOURCE !== null) {
    blobUrl ??= URL.createObjectURL(new Blob([WORKER_SOURCE], { type: "text/javascript" }));
    url = blobUrl;
  } else {
    url = workerUrl()!;
  }
  const worker = new WebWorker!(url, { type: "module" });
  return { api: Comlink.wrap<WorkerApi>(worker), terminate: () => worker.terminate() };
}

export class Pool {
  readonly size: number;
  readonly #workers: PoolWorker[];
  readonly #shared: boolean;

  private constructor(workers: PoolWorker[], shared: boolean) {
    this.#workers = workers;
    this.size = workers.length;
    this.#shared = shared;
  }

  /** Starts `size` workers and instantiates `module` in each. */
  static async start(opts: {
    size: number;
    features: Features;
    module: WebAssembly.Module;
    memory: WebAssembly.Memory | null;
    maximumPages: number;
  }): Promise<Pool> {
    const kind = opts.features.workers!;
    const workers = await Promise.all(Array.from({ length: opts.size }, () => spawn(kind)));
    try {
      await Promise.all(workers.map((w) => w.api.init(opts.module, opts.memory, opts.maximumPages)));
      if (opts.memory !== null && doorbellSupported()) {
        const kernels = WebAssembly.Module.exports(opts.module)
          .filter((e) => e.kind === "function")
          .map((e) => e.name);
        await Promise.all(workers.map((w) => {
          w.doorbell = new Doorbell(kernels);
          return w.api.listen(w.doorbell.block, kernels);
        }));
      }
    } catch (error) {
      for (const w of workers) w.terminate();
      throw error;
    }
    return new Pool(workers, opts.memory !== null);
  }

  /**
   * Runs the tasks across the workers. `read`/`write` copy regions out of and into the caller's
   * memory when it is not shared.
   */
  async run(
    tasks: Task[],
    read: (offset: number, bytes: number) => ArrayBuffer,
    write: (offset: number, data: ArrayBuffer) => void,
  ): Promise<void> {
    const n = this.size;
    if (this.#shared) {
      const lists: Task[][] = Array.from({ length: n }, () => []);
      tasks.forEach((task, i) => lists[i % n].push(task));
      await Promise.all(lists.map((list, w) => {
        if (list.length === 0) return null;
        const worker = this.#workers[w];
        return worker.doorbell?.fits(list) ? worker.doorbell.run(list) : worker.api.run(list);
      }));
      return;
    }
    await Promise.all(this.#workers.map(async (worker, w) => {
      for (let i = w; i < tasks.length; i += n) {
        const task = tasks[i];
        const inputs = (task.inputs ?? []).map(([offset, bytes]) => read(offset, bytes));
        const outputs = await worker.api.runCopied(task, Comlink.transfer(inputs, inputs));
        (task.outputs ?? []).forEach(([offset], j) => write(offset, outputs[j]));
      }
    }));
  }

  /** Ends every worker. */
  terminate(): void {
    for (const w of this.#workers) {
      w.doorbell?.stop();
      w.api[Comlink.releaseProxy]();
      w.terminate();
    }
  }
}
