/**
 * The unit of kernel work sent to a thread: one exported WASM function and its arguments
 * (byte offsets, dimensions, scalars). `inputs` and `outputs` name the memory the kernel reads
 * and writes; they matter only where memory cannot be shared, where they are copied to and
 * from the worker's own memory at the same offsets.
 *
 * @module
 */

/** A byte range [offset, offset + bytes) of WASM memory. */
export type Region = readonly [offset: number, bytes: number];

/** One call of an exported kernel. */
export interface Task {
  kernel: string;
  args: number[];
  inputs?: Region[];
  outputs?: Region[];
  /** Working memory the kernel needs but nobody reads back (never copied). */
  scratch?: Region[];
  /**
   * Where memory is copied: the worker returns its first output region in a fresh buffer of
   * `bytes` bytes, at byte `at`, having first written to every page of it (so that it, not the
   * caller, takes the host's first-touch page faults: the caller then copies the other rows of
   * a fresh result into mapped pages). See StagedReply.fresh.
   */
  fresh?: { bytes: number; at: number };
}

/** A worker's answer to runStaged. */
export interface StagedReply {
  /** The staging buffer (or a larger one) with the output regions one after the other. */
  back: ArrayBuffer;
  /** How long the worker took, by its own clock, from the task's arrival to this reply, in ms. */
  ms: number;
  /** For a task with `fresh`: that buffer, and how long writing to its pages took, in ms. */
  fresh?: { buffer: ArrayBuffer; touchMs: number };
}

/** The API each worker exposes through comlink. */
export interface WorkerApi {
  /** Instantiates the module, on `memory` when shared, else on a private memory. */
  init(module: WebAssembly.Module, memory: WebAssembly.Memory | null, maximumPages: number): void;
  /** Runs tasks in order on shared memory. */
  run(tasks: Task[]): void;
  /**
   * Starts answering task lists rung on `block` (see _doorbell.ts), kernels named by index
   * into `kernels`; calls through comlink keep working alongside.
   */
  listen(block: SharedArrayBuffer, kernels: string[], port?: MessagePort): void;
  /**
   * Runs one task on private memory: copies its input regions in from `staging` (one after the
   * other, in order), runs it, and returns `staging` (or a larger buffer where the outputs need
   * more room) with its output regions one after the other from the start (but for the first,
   * where the task has `fresh`).
   */
  runStaged(task: Task, staging: ArrayBuffer): StagedReply;
  /**
   * Takes the Web Lock `name` for the rest of the worker's life; resolves once it is held (false
   * where the worker has no Web Locks). The host releases it only when the worker's thread is
   * gone, which is how the pool learns that a terminated web worker no longer runs (a web worker
   * says nothing when it ends).
   */
  holdLock(name: string): Promise<boolean>;
}

/** What crosses a thread for a failed task: enough to raise the same kind of error again. */
export interface TaskFailure {
  name: string;
  message: string;
}

/** The failure of `error` thrown by (or for) the kernel `kernel`, as plain data. */
export function taskFailure(error: unknown, kernel: string): TaskFailure {
  const e = error as { name?: unknown; message?: unknown } | null;
  const name = typeof e?.name === "string" ? e.name : "Error";
  const message = typeof e?.message === "string" ? e.message : String(error);
  return { name, message: `WASM kernel "${kernel}" failed: ${message}` };
}

/**
 * The error a caller sees for a task that failed `where` (e.g. "in a worker of the pool"): a trap
 * stays a `WebAssembly.RuntimeError`, memory that cannot grow a `RangeError`, so a call fails
 * the same way on one thread and on the pool.
 */
export function raiseTaskFailure(failure: TaskFailure, where: string, cause?: unknown): Error {
  const kinds: Record<string, ErrorConstructor> = {
    RangeError,
    TypeError,
    RuntimeError: WebAssembly.RuntimeError as ErrorConstructor,
  };
  const Kind = kinds[failure.name] ?? Error;
  const error = new Kind(`${failure.message} (${where})`);
  if (cause !== undefined) {
    Object.defineProperty(error, "cause", { value: cause, configurable: true, writable: true });
  }
  return error;
}
