/**
 * How much synchronous work (ms) a long loop does between two turns of the event loop. Node runs
 * signal handlers (Ctrl-C), timers and I/O callbacks only when the event loop turns, so a loop of
 * Hessian-vector products that never yields cannot be interrupted until it ends.
 */
export const YIELD_INTERVAL_MS = 20;

const now = (): number => performance.now();
/** setImmediate (Node): after pending I/O callbacks; a zero timeout where there is none. */
const turn: (f: () => void) => void = typeof setImmediate === 'function' ? (f) => setImmediate(f) : (f) => setTimeout(f, 0);
let lastTurn = now();

/**
 * Let the event loop turn (signal handlers, timers, I/O) when at least `YIELD_INTERVAL_MS` of
 * synchronous work has passed since the last turn made here; otherwise resolve at once. Long
 * loops call `await yieldToEventLoop()` once per unit of work (one operator product, one
 * Householder step): the work and its results are unchanged, only interleaved with the event
 * loop, so a Ctrl-C (polled with I/O, like a due timer, at least every second turn) is handled
 * within a unit of work and two intervals.
 */
export function yieldToEventLoop(): Promise<void> {
  if (now() - lastTurn < YIELD_INTERVAL_MS) return Promise.resolve();
  return new Promise<void>((resolve) =>
    turn(() => {
      lastTurn = now();
      resolve();
    }),
  );
}
