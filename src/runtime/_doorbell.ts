/**
 * The doorbell: how task lists reach a worker on shared memory without a message. A message
 * round trip through comlink costs 70–180 µs on the test VMs, as much as a whole mixture-denoiser
 * call's share; ringing a futex word costs 1–20 µs. Each worker owns one control block:
 *
 * ```
 *  Int32 [0] request  sequence number the caller bumps to ring (−1: stop listening)
 *        [1] done     the request the worker finished last
 *        [2] status   0 ok, 1 the list threw (message at ERROR_AT)
 *        [3] length   bytes of that message
 *        [4] taken    the request the worker took last (−1: the caller withdrew the next one)
 *        [5] polling  1 while the worker polls for its next list (SPIN_MS), 0 once it sleeps
 *        [6] close    ms to poll after this list (SPIN_MS, or the call's own pollMs) when the
 *                     caller rang it within that time of the last one's end, else 0
 *        [7] notify   the request whose end the caller waits to hear of by message (hosts
 *                     without Atomics.waitAsync)
 *        [8] contended 1 once the worker's polls found the cores contended (see PollBudget);
 *                     the caller takes it back to 0
 *  f64 at RAN_AT:     how long the worker took to run the last list, in ms (its own clock)
 *  f64 at TASKS_AT:   count, then per task: kernel index, argument count, arguments…
 *  u8  at ERROR_AT:   the failure ({ name, message } as JSON, UTF-8; the message cut to fit)
 * ```
 *
 * The caller writes a list and bumps `request`; the worker, waiting on that word (polling it
 * first, then `Atomics.waitAsync`, so its event loop stays free), runs the list, sets `done`
 * and notifies. The worker polls for SPIN_MS (or what the call asked for) after a list that
 * came close after the one before (`close`), else for a few µs: waking a sleeping thread costs
 * 0.1–0.9 ms here, often more than a share of a fit's step. The caller waits on `done` with
 * `Atomics.waitAsync` (runSharing's caller polls it first, see pollDone), and can tell whether
 * the worker polls (`polling`) or wake it ahead of a call (prod). A block carries one list at a
 * time: the caller rings a busy worker only after its previous list is done; a list longer
 * than the block goes in pieces, one after another in the same turn.
 *
 * A worker given up for lost (_pool.ts) may still be running: Deno's `terminate()` lets running
 * code go on. The worker therefore takes each list by moving `taken` from the last list it took
 * to the new one, and the caller giving up moves it to −1 instead: whoever moves it first wins,
 * so a list is either withdrawn before it starts or known to be running (and waited for).
 *
 * Used wherever memory is shared. Without `Atomics.waitAsync` (Firefox 140), the worker sleeps
 * in a blocking `Atomics.wait` instead (allowed in a worker; it looks at its event loop once a
 * second while idle), and a caller that would sleep on `done` sets `notify` to the list's
 * sequence and waits for a message that the worker posts on a MessagePort once `done` reaches
 * it. The worker then turns its own event loop once, as Firefox may send a fresh port's
 * message only from there (without that turn, a fresh pool's first long call waited ~1 s,
 * until the worker's blocking wait timed out). Looking at `done` between turns of the caller's
 * event loop instead, for up to 20 ms, slowed two-thread calls there (SDPA N = 512 22-28
 * against 17-22 ms, matmul 512³ into `out` 6.7-11 against 4.9-6.5 ms): the caller's turns
 * took the CPU the worker and Firefox's own threads needed. Before the doorbell, lists went
 * through comlink there: two postMessage hops a step, ~0.3 ms or more each on the test VM,
 * where polling answers in µs.
 *
 * @module
 */
import { raiseTaskFailure, type Task, type TaskFailure, taskFailure } from "./_task.ts";

const REQUEST = 0, DONE = 1, STATUS = 2, LENGTH = 3, TAKEN = 4, POLLING = 5, CLOSE = 6;
/** The list whose end the caller waits to hear of by message (no Atomics.waitAsync). */
const NOTIFY = 7;
/** Set by the worker when its polls found the cores contended (see PollBudget). */
const CONTENDED = 8;
const WORDS = 9;
const RAN_AT = 40;
const TASKS_AT = 64;
const ERROR_BYTES = 1024;
/** Bytes of one control block. */
export const BLOCK_BYTES = 64 * 1024;
const ERROR_AT = BLOCK_BYTES - ERROR_BYTES;
const TASK_CAPACITY = (ERROR_AT - TASKS_AT) / 8;
/**
 * How long a worker polls for its next list before it sleeps, when the last one came within
 * that time of the one before (a fit's steps, a sampler's, back-to-back calls); otherwise it
 * polls for a few µs only. Waking a sleeping thread costs 0.1–0.9 ms on the test VMs (the idle
 * vCPU is descheduled), longer than many steps' shares: at 2 ms an XGBoost fit's workers
 * start each step's share in ~40 µs instead of ~400. OpenMP's runtimes poll the same way.
 */
export const SPIN_MS = 2;
/** Loads of a word between two looks at the clock while polling. */
const LOADS_PER_CLOCK = 1024;
/**
 * A gap this long (ms) between two looks at the clock while polling (a few µs apart otherwise)
 * means the thread lost its core meanwhile: another thread wanted it, and the poll ends (the
 * thread sleeps until its next list), which gives the core back.
 */
const PREEMPTED_MS = 0.5;
/**
 * ...and only a gap this long counts towards contended cores (PollBudget): another thread held
 * the core for a scheduler's slice (more runnable threads than cores, ~3 ms each under Linux's
 * scheduler with four on two). Shorter gaps are a browser's own threads at work: counted from
 * 0.5 ms, WebKit's workers found the cores contended in nearly every `sample()` run on two
 * threads over two cores (Heun, 20 steps, 8,192 × 64, isolated page), paused their polls, and
 * 70–80% of the run's mixture calls stayed in the page's thread alone (the run 73–78 ms against
 * 72–75 on one thread; from 2 ms 54–64). Polls that held their core through gaps up to 2 ms as
 * well cost Chromium's SDPA at N = 512 on two threads 9–18%, where a poll that yields at once
 * cost it 6–12% (alternating bundles in one page). Four threads on two cores are still caught
 * (see bench/NOTES.md, "A lost core: 0.5 ms ends a poll, 2 ms counts towards contention").
 */
const CONTENDED_GAP_MS = 2;
/** Polls that lose their core this many times within CONTENDED_MS mean the cores are contended. */
const CONTENDED_POLLS = 3, CONTENDED_MS = 50;
/** How long a thread polls no more once its cores are contended, at first and at most (ms). */
const MIN_PAUSE_MS = 100, MAX_PAUSE_MS = 1600;

/**
 * Whether this thread may poll. A poll that loses its core ends at once (the thread sleeps
 * until its next list); where that happens CONTENDED_POLLS times within CONTENDED_MS, other
 * threads keep wanting the cores (more threads than cores, or a busy host), and a polling thread
 * would take them from the threads that have work: the thread polls no more for a pause, which
 * doubles while the cores stay contended (MIN_PAUSE_MS up to MAX_PAUSE_MS) and halves after each
 * poll that keeps its core; a worker tells its caller (CONTENDED), who then deals its calls to
 * fewer threads for a while (Pool.contended). A fit of 100k × 28 on four threads over this
 * host's two cores took 2.4 s against 0.36 s on two (Deno), and 0.5 s with no polling at all;
 * with both, 0.39–0.46 s against 0.31–0.33 s on two. WebKit reports 4 cores on this host, so
 * `init()` chose four threads there: 2.9–3.2 s, now 0.50–0.56 s. One per thread: a thread is a
 * caller or a worker.
 */
export class PollBudget {
  #pauseUntil = -Infinity;
  #pause = MIN_PAUSE_MS;
  /** Pauses begun so far. */
  pauses = 0;
  /** When the last polls lost their core (at most CONTENDED_POLLS, oldest first). */
  readonly #lost: number[] = [];

  /** Whether a poll may start now. */
  allowed(now: number = performance.now()): boolean {
    return now >= this.#pauseUntil;
  }

  /** A poll lost its core (seen at `now`). */
  preempted(now: number): void {
    const lost = this.#lost;
    lost.push(now);
    if (lost.length > CONTENDED_POLLS) lost.shift();
    if (lost.length < CONTENDED_POLLS || now - lost[0] > CONTENDED_MS) return;
    lost.length = 0;
    this.pauses++;
    this.#pauseUntil = now + this.#pause;
    this.#pause = Math.min(MAX_PAUSE_MS, 2 * this.#pause);
  }

  /** A poll ran to its end on its core. */
  kept(): void {
    this.#pause = Math.max(MIN_PAUSE_MS, this.#pause / 2);
  }
}

/** This thread's polls (see PollBudget). */
const budget = new PollBudget();

/** How many times this thread's polls have found the cores contended (see PollBudget). */
export function contentions(): number {
  return budget.pauses;
}

/**
 * Loads `words[index]` until it is no longer `value` (with `reached`: until it is `value`) or the
 * clock passes `until` (at least LOADS_PER_CLOCK loads, a few µs); returns the last value
 * loaded. Stops at once where the thread lost its core while polling, and polls no more while
 * the PollBudget forbids it.
 */
export function pollWhile(
  words: Int32Array,
  index: number,
  value: number,
  until: number,
  reached = false,
): number {
  const word = Atomics.load(words, index);
  if ((word === value) === reached || !budget.allowed()) return word;
  const seen = spinWhile(words, index, value, until, reached);
  if (lostAt < 0) budget.kept();
  else if (lostGap >= CONTENDED_GAP_MS) budget.preempted(lostAt);
  return seen;
}

/**
 * When spinWhile's poll found that the thread had lost its core (performance.now()), else −1,
 * and for how long (ms).
 */
let lostAt = -1, lostGap = 0;

/**
 * pollWhile's loop: no calls in it or after it but the clock and the loads. V8 compiles a loop
 * that runs long while it runs (on-stack replacement), and the compiled code was thrown away
 * at the first call it had never seen made, the budget's after a lost core: ~20 recompiles of
 * the worker's poll in each 200k × 28 fit on two threads (Node 20).
 */
function spinWhile(
  words: Int32Array,
  index: number,
  value: number,
  until: number,
  reached: boolean,
): number {
  let word = Atomics.load(words, index), last = performance.now();
  lostAt = -1;
  for (let spin = 1; (word === value) !== reached; spin++) {
    if (spin % LOADS_PER_CLOCK === 0) {
      const now = performance.now();
      if (now - last > PREEMPTED_MS) {
        lostAt = now;
        lostGap = now - last;
        return word;
      }
      last = now;
      if (now >= until) break;
    }
    word = Atomics.load(words, index);
  }
  // The word may have changed while the thread was off its core (with three threads on two
  // cores, the list came while the caller had it): that gap shows only here. Counted as kept,
  // such polls never paused, and a 100k × 28 fit on three threads over two cores took 1.8–2.1 s
  // in one of four to six fits (Deno; the others and two threads ~0.4–0.5 s).
  const now = performance.now();
  if (now - last > PREEMPTED_MS) {
    lostAt = now;
    lostGap = now - last;
  }
  return word;
}

/** Whether this host has Atomics.waitAsync (else the doorbell's messages stand in for it). */
function hasWaitAsync(): boolean {
  return typeof (Atomics as { waitAsync?: unknown }).waitAsync === "function";
}

/** How long an idle worker without Atomics.waitAsync blocks before it looks at its event loop. */
const IDLE_BLOCK_MS = 1000;

/** Whether this runtime can ring workers on shared memory without blocking its event loop. */
export function doorbellSupported(): boolean {
  return typeof SharedArrayBuffer === "function" &&
    (hasWaitAsync() || typeof MessageChannel === "function");
}

/** Resolves once `words[index]` is no longer `value` (at once if it already differs). */
async function changed(words: Int32Array, index: number, value: number): Promise<void> {
  const result = Atomics.waitAsync(words, index, value);
  if (result.async) await result.value;
}

/** The caller's side of one worker's block. */
export class Doorbell {
  readonly block: SharedArrayBuffer;
  /**
   * Without Atomics.waitAsync: the port the worker posts the ends of awaited lists to (handed
   * over with `listen`); null elsewhere.
   */
  readonly port: MessagePort | null = null;
  /** Whether this thread waits on `done` with Atomics.waitAsync (else by message). */
  readonly #waitAsync = hasWaitAsync();
  /** Without Atomics.waitAsync: this thread's end of the port, and the wait it ends. */
  readonly #listener: MessagePort | null = null;
  #heard: (() => void) | null = null;
  readonly #words: Int32Array;
  readonly #tasks: Float64Array;
  readonly #kernels: Map<string, number>;
  #sequence = 0;
  /** When this thread last saw a list done, or prodded the worker (performance.now()). */
  #lastDone = -Infinity;
  /** The last list rung or queued: the next one waits for it. */
  #busy: Promise<void> = Promise.resolve();
  /** Lists rung or queued and not yet done. */
  #queued = 0;
  /** Set by stop(): nothing more is rung. */
  #stopped = false;
  /** Set by abandon() once no list can run on the block any more. */
  #lost = false;

  constructor(kernels: readonly string[]) {
    this.block = new SharedArrayBuffer(BLOCK_BYTES);
    this.#words = new Int32Array(this.block, 0, WORDS);
    if (!this.#waitAsync) {
      const channel = new MessageChannel();
      // Any message ends the wait; the waiter then looks at `done` again.
      channel.port1.onmessage = () => this.#hear();
      this.#listener = channel.port1;
      this.port = channel.port2;
    }
    this.#tasks = new Float64Array(this.block, TASKS_AT, TASK_CAPACITY);
    this.#kernels = new Map(kernels.map((name, i) => [name, i]));
  }

  /**
   * Rings the worker with `tasks` and resolves when it has run them (in pieces where they do
   * not fit one block). The worker then polls for `pollMs` (whole ms) if the list came within
   * that time of the last one's end.
   *
   * @throws {WebAssembly.RuntimeError | RangeError | Error} The failing task's error, of the same
   *   kind, naming its kernel (the rest are not run); an Error on a kernel the module does not
   *   export.
   */
  run(tasks: readonly Task[], pollMs: number = SPIN_MS): Promise<void> {
    const pieces = this.#pieces(tasks);
    // An idle worker is rung now, before the caller goes on with its own share of the work;
    // a busy one when its list is done.
    const start = async () => {
      for (const piece of pieces) await this.#ring(piece, pollMs);
    };
    const turn = (this.#queued++ === 0 ? start() : this.#busy.then(start))
      .finally(() => void this.#queued--);
    this.#busy = turn.catch(() => {});
    return turn;
  }

  /**
   * Whether ringNow() would ring the worker with `tasks` now: it is idle, not stopped, and the
   * list fits one block.
   */
  canRingNow(tasks: readonly Task[]): boolean {
    if (this.#stopped || this.#queued !== 0) return false;
    // As #pieces counts, without building the pieces (an unknown kernel: run() says so).
    let size = 1;
    for (const task of tasks) {
      if (!this.#kernels.has(task.kernel)) return false;
      size += 2 + task.args.length;
    }
    return size <= TASK_CAPACITY;
  }

  /**
   * Rings an idle worker with `tasks` at once, outside run()'s chain of promises, for a caller
   * that runs its own share meanwhile and then finishes the list with finishNow() or, where the
   * list is not done yet, finishLater(). A list that finishNow() finds done costs no turns of
   * the microtask queue through run()'s chain (the pool's share, Promise.allSettled, #ring): a
   * two-lane runSharing call of tiny tasks took 3.3–4.1 µs against 5.0–8.1 in Deno. Returns
   * false (and rings nothing) where canRingNow() is false.
   */
  ringNow(tasks: readonly Task[], pollMs: number = SPIN_MS): boolean {
    if (!this.canRingNow(tasks)) return false;
    this.#queued++;
    this.#post(tasks, pollMs);
    return true;
  }

  /**
   * Whether the list rung by ringNow() is done; if so, finishes it here and throws its failure,
   * if it failed. False: finish it with finishLater().
   */
  finishNow(): boolean {
    if (Atomics.load(this.#words, DONE) !== this.#sequence) return false;
    this.#queued--;
    this.#finish();
    return true;
  }

  /** Waits for the list rung by ringNow() (not done when finishNow() looked) and finishes it. */
  finishLater(): Promise<void> {
    const turn = this.#waitFor(this.#sequence).finally(() => void this.#queued--);
    this.#busy = turn.catch(() => {});
    return turn;
  }

  /**
   * Polls until the worker has finished the last list rung or `until` (performance.now()) has
   * passed: a caller that has just done its own share of a call (WasmRuntime.runSharing) waits
   * the last few µs of the worker's awake, instead of sleeping through a 0.1–0.9 ms wake-up.
   */
  pollDone(until: number): void {
    if (this.#queued > 0) pollWhile(this.#words, DONE, this.#sequence, until, true);
  }

  /**
   * Whether the worker is idle and polling for its next list, so that a list rung now starts
   * within µs (not after a 0.1–0.9 ms wake-up): calls too small to pay for a wake-up may then
   * still split. It may stop polling just after this said so; the list then only starts later.
   */
  polling(): boolean {
    return this.#queued === 0 && Atomics.load(this.#words, POLLING) === 1;
  }

  /** Whether the worker's polls found the cores contended since this was last asked. */
  contended(): boolean {
    return Atomics.exchange(this.#words, CONTENDED, 0) === 1;
  }

  /** How long the worker took to run the last list it finished, in ms. */
  lastRunMs(): number {
    return new Float64Array(this.block, RAN_AT, 1)[0];
  }

  /**
   * Wakes a sleeping worker without giving it a list; it then polls for SPIN_MS. A caller that
   * runs a small call in one task, as it is too short to wait for a wake-up, prods the workers:
   * when such calls come close together, the next ones find them polling and may split.
   */
  prod(): void {
    if (this.#stopped || Atomics.load(this.#words, POLLING) === 1) return;
    // A notify without a new request: the worker wakes, finds none, and polls (see listen).
    Atomics.notify(this.#words, REQUEST);
    // The list that comes of it is close: the worker polls after it too.
    this.#lastDone = performance.now();
  }

  /** Asks the worker to stop listening (it then only answers comlink calls). */
  stop(): void {
    this.#stopped = true;
    this.#listener?.close();
    Atomics.store(this.#words, REQUEST, -1);
    Atomics.notify(this.#words, REQUEST);
  }

  /**
   * Gives the worker up for lost: a list rung but not yet taken is withdrawn (its caller
   * rejects; the worker never runs it) and nothing more is rung. Resolves once no list can run
   * on this block any more: at once when `threadGone` (the host stopped the thread), else when
   * the list the worker took, if any, is done.
   */
  async abandon(threadGone: boolean): Promise<void> {
    this.stop();
    const words = this.#words;
    const done = Atomics.load(words, DONE);
    const taken = Atomics.compareExchange(words, TAKEN, done, -1);
    if (taken === done || threadGone) {
      // Nothing runs there, and nothing will: a caller still waiting on the block gives up.
      this.#lost = true;
      Atomics.notify(words, DONE);
      this.#hear();
      return;
    }
    // The lost worker no longer holds the process, and a wait on shared memory does not either.
    const keepAlive = setInterval(() => {}, 1000);
    try {
      for (let d = Atomics.load(words, DONE); d !== taken; d = Atomics.load(words, DONE)) {
        if (this.#waitAsync) await changed(words, DONE, d);
        else await new Promise((resolve) => setTimeout(resolve, 5));
      }
    } finally {
      clearInterval(keepAlive);
    }
    // Without Atomics.waitAsync the list's caller waits for a message that stop() closed the
    // port to: wake it here, now that the list is done.
    this.#hear();
  }

  /** Ends a wait for a list's end by message (see #awaitDone). */
  #hear(): void {
    const heard = this.#heard;
    this.#heard = null;
    heard?.();
  }

  /**
   * Resolves once `done` is no longer `value`: through Atomics.waitAsync, or else by asking the
   * worker for a message when it finishes list `sequence`. `notify` is set before `done` is
   * looked at again and the worker looks at `notify` after it sets `done` (both sequentially
   * consistent), so either this thread sees the list done or the worker sees the request.
   */
  #awaitDone(value: number, sequence: number): Promise<void> {
    const words = this.#words;
    if (this.#waitAsync) return changed(words, DONE, value);
    return new Promise<void>((resolve) => {
      this.#heard = resolve;
      Atomics.store(words, NOTIFY, sequence);
      if (Atomics.load(words, DONE) !== value || this.#lost) this.#hear();
    });
  }

  /** Splits a list into pieces that each fit the block. */
  #pieces(tasks: readonly Task[]): Task[][] {
    const pieces: Task[][] = [];
    let piece: Task[] = [], size = 1;
    for (const task of tasks) {
      if (!this.#kernels.has(task.kernel)) throw new Error(`Unknown WASM kernel "${task.kernel}"`);
      const need = 2 + task.args.length;
      if (1 + need > TASK_CAPACITY) {
        throw new RangeError(
          `Expected at most ${TASK_CAPACITY - 3} task arguments but found ${task.args.length}`,
        );
      }
      if (size + need > TASK_CAPACITY) {
        pieces.push(piece);
        piece = [];
        size = 1;
      }
      piece.push(task);
      size += need;
    }
    if (piece.length > 0) pieces.push(piece);
    return pieces;
  }

  async #ring(tasks: readonly Task[], pollMs: number): Promise<void> {
    if (this.#stopped) throw new Error("The worker's doorbell was stopped before this list ran");
    const sequence = this.#post(tasks, pollMs);
    // No spinning here: on a machine whose cores are busy (this thread's own share just ran), a
    // spinning caller slows the worker it waits for. The first look at `done` waits a turn of
    // the microtask queue: a caller that runs its own share meanwhile (WasmRuntime.runSharing)
    // often finds the list done then, and needs no wait on shared memory at all.
    await undefined;
    await this.#waitFor(sequence);
  }

  /** Writes `tasks` to the block and rings; returns the list's sequence number. */
  #post(tasks: readonly Task[], pollMs: number): number {
    const t = this.#tasks, words = this.#words;
    let at = 0;
    t[at++] = tasks.length;
    for (const task of tasks) {
      t[at++] = this.#kernels.get(task.kernel)!;
      t[at++] = task.args.length;
      for (const arg of task.args) t[at++] = arg;
    }
    const sequence = this.#sequence = (this.#sequence + 1) & 0x3fffffff;
    // Measured here, not in the worker: its own gap would count its wake-up (up to ms here).
    Atomics.store(words, CLOSE, performance.now() - this.#lastDone < pollMs ? pollMs : 0);
    Atomics.store(words, REQUEST, sequence); // publishes the list written above
    Atomics.notify(words, REQUEST);
    return sequence;
  }

  /** Waits until list `sequence` is done, then finishes it (see #finish). */
  async #waitFor(sequence: number): Promise<void> {
    const words = this.#words;
    for (
      let done = Atomics.load(words, DONE);
      done !== sequence;
      done = Atomics.load(words, DONE)
    ) {
      await this.#awaitDone(done, sequence);
      if (this.#lost) throw new Error("The worker was lost before it finished this list");
    }
    this.#finish();
  }

  /** Notes the end of the list just done; throws its failure, if it failed. */
  #finish(): void {
    const words = this.#words;
    this.#lastDone = performance.now();
    if (Atomics.load(words, STATUS) !== 0) {
      const length = Atomics.load(words, LENGTH);
      // Copied out: TextDecoder refuses views of shared memory.
      const bytes = new Uint8Array(this.block, ERROR_AT, length).slice();
      const failure = JSON.parse(new TextDecoder().decode(bytes)) as TaskFailure;
      throw raiseTaskFailure(failure, "in a worker of the pool");
    }
  }
}

/**
 * The worker's side: answers rings on `block` by running task lists through `kernels` (the
 * module's exports, indexed as the caller named them) until asked to stop.
 */
export async function listen(
  block: SharedArrayBuffer,
  names: readonly string[],
  exports: Record<string, (...args: number[]) => unknown>,
  port: MessagePort | null = null,
): Promise<void> {
  const words = new Int32Array(block, 0, WORDS);
  const waitAsync = hasWaitAsync();
  // A blocking wait must not come before this call's own answer has gone out (comlink sends it
  // once this returns): start after a turn of the event loop.
  if (!waitAsync) await new Promise((resolve) => setTimeout(resolve, 0));
  const ran = new Float64Array(block, RAN_AT, 1);
  const t = new Float64Array(block, TASKS_AT, TASK_CAPACITY);
  const kernels = names.map((name) => exports[name]);
  let seen = Atomics.load(words, REQUEST);
  let taken = Atomics.load(words, TAKEN);
  /** When the last list ended, and how long to poll for the next one. */
  let ended = -Infinity, poll = 0;
  let pauses = budget.pauses;
  for (;;) {
    const request = pollWhile(words, REQUEST, seen, ended + poll);
    if (budget.pauses !== pauses) {
      // Tell the caller: it deals its calls to fewer threads for a while (Pool.contended).
      pauses = budget.pauses;
      Atomics.store(words, CONTENDED, 1);
    }
    if (request === seen) {
      Atomics.store(words, POLLING, 0);
      if (waitAsync) await changed(words, REQUEST, seen);
      else await sleepOn(words, REQUEST, seen);
      // Woken without a request: prodded (see Doorbell.prod), as a call is near.
      const prodded = Atomics.load(words, REQUEST) === seen && budget.allowed();
      [ended, poll] = prodded ? [performance.now(), SPIN_MS] : [ended, 0];
      Atomics.store(words, POLLING, prodded ? 1 : 0);
      continue;
    }
    if (request < 0) return;
    // Lists that come close together keep the worker polling between them.
    poll = Atomics.load(words, CLOSE);
    seen = request;
    // Take the list, unless the caller has withdrawn it (it gave this worker up for lost).
    if (Atomics.compareExchange(words, TAKEN, taken, request) !== taken) return;
    taken = request;
    let index = -1;
    const started = performance.now();
    try {
      const count = t[0];
      for (let i = 0, at = 1; i < count; i++) {
        index = t[at];
        const argc = t[at + 1];
        const args = Array.from(t.subarray(at + 2, at + 2 + argc));
        at += 2 + argc;
        kernels[index](...args);
      }
      Atomics.store(words, STATUS, 0);
    } catch (error) {
      const text = encodeFailure(taskFailure(error, names[index] ?? "?"));
      new Uint8Array(block, ERROR_AT, text.length).set(text);
      Atomics.store(words, LENGTH, text.length);
      Atomics.store(words, STATUS, 1);
    }
    ran[0] = performance.now() - started;
    Atomics.store(words, POLLING, poll > 0 && budget.allowed() ? 1 : 0);
    Atomics.store(words, DONE, seen); // publishes `ran` too
    Atomics.notify(words, DONE);
    if (port !== null && Atomics.load(words, NOTIFY) === seen) {
      port.postMessage(seen);
      // Firefox may send a fresh port's message only from this thread's event loop: polling,
      // then blocking in Atomics.wait, held it back until the wait's timeout (IDLE_BLOCK_MS),
      // and the caller who asked for it waited that long (~1 s, a fresh pool's first long call).
      await eventLoopTurn();
    }
    ended = performance.now();
  }
}

/** Resolves after a turn of this thread's event loop (a message to itself: no timer clamping). */
function eventLoopTurn(): Promise<void> {
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      channel.port1.close();
      resolve();
    };
    channel.port2.postMessage(0);
  });
}

/**
 * Blocks this (worker) thread until `words[index]` is no longer `value` or a notify comes,
 * looking at its event loop once every IDLE_BLOCK_MS meanwhile (comlink calls still answer).
 */
async function sleepOn(words: Int32Array, index: number, value: number): Promise<void> {
  while (Atomics.wait(words, index, value, IDLE_BLOCK_MS) === "timed-out") {
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
}

/** The failure as JSON in at most ERROR_BYTES bytes (the message cut short where it must be). */
function encodeFailure(failure: TaskFailure): Uint8Array {
  const encoder = new TextEncoder();
  let message = failure.message;
  for (;;) {
    const text = encoder.encode(JSON.stringify({ name: failure.name, message }));
    if (text.length <= ERROR_BYTES) return text;
    if (message.length <= 1) {
      return encoder.encode(JSON.stringify({ name: "Error", message: "…" }));
    }
    const keep = Math.max(0, message.length - (text.length - ERROR_BYTES) - 8);
    message = message.slice(0, keep) + "…";
  }
}
