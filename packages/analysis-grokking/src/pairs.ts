import type { Split, TaskInstance } from '@goldstone/plugin-api';

/** An unordered pair of node ids, a ≤ b. */
export type Pair = readonly [number, number];

/**
 * The node pairs of a split, decoded from its inputs: one-hot `[2, n]` rows (the hot index of each
 * half) or index `[2]` rows (the two values, rounded). One pair per example, in order.
 */
export function decodePairs(split: Split): [number, number][] {
  const out: [number, number][] = [];
  const oneHot = split.xShape.length === 2 && split.xShape[0] === 2;
  const index = split.xShape.length === 1 && split.xShape[0] === 2;
  if (!oneHot && !index) throw new Error(`grokking: inputs of shape [${split.xShape}] are not node pairs ([2] indices or [2, n] one-hot)`);
  const n = oneHot ? split.xShape[1] : 1;
  const w = 2 * n;
  for (let r = 0; r < split.n; r++) {
    if (index) {
      out.push([Math.round(split.x[r * 2]), Math.round(split.x[r * 2 + 1])]);
      continue;
    }
    const hot = (h: number) => {
      let best = 0;
      for (let k = 1; k < n; k++) if (split.x[r * w + h * n + k] > split.x[r * w + h * n + best]) best = k;
      return best;
    };
    out.push([hot(0), hot(1)]);
  }
  return out;
}

/** The distinct unordered pairs (a ≤ b) of a split, sorted: a pair seen in one or both orientations counts once. */
export function unorderedPairsOf(split: Split): Pair[] {
  const seen = new Map<number, Pair>();
  let n = 0;
  for (const [a, b] of decodePairs(split)) n = Math.max(n, a + 1, b + 1);
  for (const [a, b] of decodePairs(split)) {
    const lo = Math.min(a, b);
    const hi = Math.max(a, b);
    seen.set(lo * (n + 1) + hi, [lo, hi]);
  }
  return [...seen.values()].sort((p, q) => p[0] - q[0] || p[1] - q[1]);
}

/** What the task says it is: the relation (`addition`, `order`, …) and the number of nodes, when its info records them. */
export function relationOf(task: Pick<TaskInstance, 'info'>): { relation: string | null; nodes: number | null } {
  const info = task.info ?? {};
  return {
    relation: typeof info.relation === 'string' ? info.relation : null,
    nodes: typeof info.nodes === 'number' && Number.isInteger(info.nodes) ? info.nodes : null,
  };
}
