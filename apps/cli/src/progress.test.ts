import { describe, expect, it } from 'vitest';
import { formatDuration, formatInfoValue, progressLine, stderrProgress } from './progress';

function sink() {
  const lines: string[] = [];
  let buf = '';
  const stream = {
    isTTY: false,
    write(chunk: string) {
      buf += chunk;
      const parts = buf.split('\n');
      buf = parts.pop()!;
      lines.push(...parts);
      return true;
    },
  } as unknown as NodeJS.WritableStream & { isTTY?: boolean };
  return { lines, stream };
}

describe('plain progress (not a terminal)', () => {
  it('prints a line at every tenth of the work with epoch, loss, held-out metric and ETA, and a closing line', () => {
    const { lines, stream } = sink();
    let t = 0;
    const p = stderrProgress({ stream, now: () => t, minGapMs: 0 });
    p.start('train', 100);
    for (let i = 1; i <= 100; i++) {
      t += 50;
      p.tick(1, { epoch: `${Math.ceil(i / 10)}/10`, loss: 1 / i, 'test.mse': 0.25 });
    }
    p.stop();
    expect(lines[0]).toBe('train: 100 steps…');
    // 9 lines at 10 %, 20 %, … 90 %, and the closing line at 100 %
    expect(lines).toHaveLength(11);
    expect(lines[1]).toBe('train 10/100 (10%) epoch=1/10 loss=0.1 test.mse=0.25 · 1s, eta 5s');
    expect(lines[10]).toBe('train 100/100 (100%) epoch=10/10 loss=0.01 test.mse=0.25 · 5s');
  });

  it('prints at least every lineEveryMs on slow work, and nothing at all when quiet', () => {
    const { lines, stream } = sink();
    let t = 0;
    const p = stderrProgress({ stream, now: () => t, lineEveryMs: 1000 });
    p.start('train', 1000);
    for (let i = 0; i < 30; i++) {
      t += 400;
      p.tick();
    }
    // 30 ticks of 0.4 s, 3 % of the work: a line on every third tick (1.2 s since the last ≥ 1 s)
    expect(lines.length - 1).toBe(10);
    expect(lines[1]).toBe('train 3/1000 (0%) · 1s, eta 6m39s');
    // quick work prints its start only
    const fast = sink();
    const f = stderrProgress({ stream: fast.stream, now: () => t });
    f.start('hessian', 50);
    for (let i = 0; i < 50; i++) {
      t += 10;
      f.tick();
    }
    f.stop();
    expect(fast.lines).toEqual(['hessian: 50 steps…']);
    const quiet = sink();
    const q = stderrProgress({ stream: quiet.stream, quiet: true, now: () => t });
    q.start('train', 10);
    q.tick(5);
    q.log('a message');
    q.stop();
    expect(quiet.lines).toEqual([]);
  });
});

describe('formatting', () => {
  it('formats durations and values for people', () => {
    expect([formatDuration(0), formatDuration(42_400), formatDuration(187_000), formatDuration(3_720_000)]).toEqual(['0s', '42s', '3m07s', '1h02m']);
    expect([formatInfoValue(0.123456), formatInfoValue(12345), formatInfoValue(2e-5), formatInfoValue('3/10')]).toEqual(['0.1235', '1.23e+4', '2.00e-5', '3/10']);
    expect(progressLine('analysis', 0, 4, 0)).toBe('analysis 0/4 (0%) · 0s');
  });
});
