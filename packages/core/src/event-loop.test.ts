import { describe, expect, it } from 'vitest';
import { YIELD_INTERVAL_MS, yieldToEventLoop } from './event-loop';
import { spin, turnsDuring } from './test-support';

describe('yieldToEventLoop', () => {
  it('lets queued callbacks run once the interval of synchronous work has passed', async () => {
    let immediate = false;
    let timer = false;
    setImmediate(() => (immediate = true));
    setTimeout(() => (timer = true), 0);
    spin(YIELD_INTERVAL_MS + 5);
    await yieldToEventLoop();
    // queued before the turn: run by the time it resolves
    expect(immediate).toBe(true);
    // a due timer (and a signal, polled with I/O) waits at most for the next full turn
    spin(YIELD_INTERVAL_MS + 5);
    await yieldToEventLoop();
    expect(timer).toBe(true);
  });

  it('turns the event loop at most once per interval, however often it is called', async () => {
    await yieldToEventLoop();
    const t0 = performance.now();
    const { turns } = await turnsDuring(async () => {
      for (let i = 0; i < 20_000; i++) await yieldToEventLoop();
    });
    const elapsed = performance.now() - t0;
    // each turn the counter sees needs a yield, and yields are YIELD_INTERVAL_MS apart
    expect(turns).toBeLessThanOrEqual(Math.floor(elapsed / YIELD_INTERVAL_MS) + 1);
  });
});
