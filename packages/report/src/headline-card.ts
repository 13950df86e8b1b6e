import { higherIsBetter as higherIsBetterMetric, isObject, primaryMetric, readHeadline, type HeadlineNumber, type MetricName, type OutputKind } from '@goldstone/plugin-api';
import type { AnalysisEntry, RunData } from '@goldstone/run-store/format';
import { columnTable, details, escapeHtml, formatNumber, slug } from './html';
import { orderSplits, splitMetricKey, stepsTrained } from './training-curves';

/** The primary metric of a task's output kind (`mse` when the kind is not recorded). */
export function primaryMetricOf(outputKind: unknown): string {
  return primaryMetric(outputKind as OutputKind);
}

/** Losses are lower-better; otherwise plugin-api's rule for the primary metrics. */
const higherIsBetter = (metric: string): boolean => !metric.endsWith('loss') && higherIsBetterMetric(metric as MetricName);

const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/**
 * The run's final metrics as `split.metric → value`: the last epoch row of metrics.jsonl, with
 * run.json's summary over it, keeping only keys of known splits (the task's `splits` in run.json
 * and the splits the epoch rows name; every `a.b` key of the summary when neither is known).
 */
export function finalMetrics(data: RunData): Record<string, number | null> {
  const epochs = data.metrics.filter((r) => r.kind === 'epoch');
  const last = epochs[epochs.length - 1];
  const known = new Set<string>();
  const task = isObject(data.run.task) ? data.run.task : undefined;
  if (task && isObject(task.splits)) for (const s of Object.keys(task.splits)) known.add(s);
  for (const row of epochs) for (const k of Object.keys(row)) {
    const sm = splitMetricKey(k);
    if (sm) known.add(sm[0]);
  }
  const out: Record<string, number | null> = {};
  const take = (k: string, v: unknown): void => {
    const sm = splitMetricKey(k);
    if (sm && (known.size === 0 || known.has(sm[0])) && (typeof v === 'number' || v === null)) out[k] = v;
  };
  if (last) for (const [k, v] of Object.entries(last)) take(k, v);
  if (isObject(data.run.summary)) for (const [k, v] of Object.entries(data.run.summary)) take(k, v);
  return out;
}

/** Metrics in display order: the primary metric, then the loss, then the rest by name. */
function orderMetrics(metrics: Iterable<string>, primary: string): string[] {
  const rank = (m: string) => (m === primary ? 0 : m === 'loss' ? 1 : 2);
  return [...new Set(metrics)].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

/** `split.metric → value` as a grid: splits as rows (train, test, then the rest), metrics as columns. */
export function metricGrid(final: Record<string, number | null>, primary = 'mse'): { metrics: string[]; rows: [string, ...(number | null)[]][] } {
  const cells = new Map<string, Map<string, number | null>>();
  for (const [key, value] of Object.entries(final)) {
    const sm = splitMetricKey(key);
    if (!sm) continue;
    if (!cells.has(sm[0])) cells.set(sm[0], new Map());
    cells.get(sm[0])!.set(sm[1], value);
  }
  const metrics = orderMetrics([...cells.values()].flatMap((m) => [...m.keys()]), primary);
  const rows = orderSplits(cells.keys()).map((split) => [split, ...metrics.map((m) => cells.get(split)!.get(m) ?? null)] as [string, ...(number | null)[]]);
  return { metrics, rows };
}

/** The worst out-of-distribution split (every split but train and test) by `metric`, and how many there are. */
export function worstOod(final: Record<string, number | null>, metric: string): { split: string; value: number; of: number } | undefined {
  const up = higherIsBetter(metric);
  const ood: { split: string; value: number }[] = [];
  for (const [key, value] of Object.entries(final)) {
    const sm = splitMetricKey(key);
    if (!sm || sm[1] !== metric || sm[0] === 'train' || sm[0] === 'test' || !finite(value)) continue;
    ood.push({ split: sm[0], value });
  }
  if (ood.length === 0) return undefined;
  const worst = ood.reduce((a, b) => ((up ? b.value < a.value : b.value > a.value) ? b : a));
  return { ...worst, of: ood.length };
}

/** A headline number's error bar as text: `± 0.2`, `[2.9, 3.6] 95 %`, `exact`, or '' when none was recorded. */
export function errorBar(h: HeadlineNumber): string {
  if (h.value === null) return '';
  if (h.stderr !== undefined) return `± ${formatNumber(h.stderr)}`;
  if (h.interval) return `[${formatNumber(h.interval[0])}, ${formatNumber(h.interval[1])}]${h.level !== undefined ? ` ${formatNumber(h.level * 100)} %` : ''}`;
  if (h.exact) return 'exact';
  return '';
}

function headlineRows(analyses: AnalysisEntry[]): string[] {
  const rows: string[] = [];
  for (const a of analyses) {
    const hs = readHeadline(a);
    if (hs.length === 0) continue;
    const declared = Array.isArray(a.headline);
    hs.forEach((h, i) => {
      const first = i === 0 ? `<th scope="rowgroup" rowspan="${hs.length}"><a href="#analysis-${escapeHtml(slug(a.name))}">${escapeHtml(a.name)}</a></th>` : '';
      const value =
        h.value === null
          ? '<span class="muted">—</span>'
          : `<span class="num">${escapeHtml(formatNumber(h.value))}${h.unit ? ` ${escapeHtml(h.unit)}` : ''}</span>`;
      const bar = errorBar(h);
      const barCell = bar
        ? `<span class="num">${escapeHtml(bar)}</span>`
        : h.value === null
          ? ''
          : `<span class="muted">${declared ? 'none given' : 'not recorded (older result)'}</span>`;
      const better = h.better ? ` <span class="muted">(${h.better} is better)</span>` : '';
      rows.push(
        `<tr>${first}<td>${escapeHtml(h.label)}${better}</td><td>${value}</td><td>${barCell}</td><td>${h.note ? escapeHtml(h.note) : ''}</td></tr>`,
      );
    });
  }
  return rows;
}

function fact(label: string, html: string): string {
  return `<div class="fact"><div class="fact-label">${escapeHtml(label)}</div><div class="fact-value">${html}</div></div>`;
}

const num = (v: number): string => `<span class="num">${escapeHtml(formatNumber(v))}</span>`;

/**
 * The card at the top of a run report: status and what was trained, the held-out metrics (the
 * test split's primary metric and loss), the worst out-of-distribution split, and each analysis'
 * headline numbers with their error bars (± standard error, [low, high] at a level, or exact; a
 * number that could not be measured with its note).
 */
export function headlineCard(data: RunData, analyses: AnalysisEntry[]): string {
  const run = data.run;
  const task = isObject(run.task) ? run.task : {};
  const primary = primaryMetricOf(task.outputKind);
  const final = finalMetrics(data);
  const facts: string[] = [];
  const status = String(run.status);
  facts.push(fact('run', `${escapeHtml(run.name)} <span class="badge status-${escapeHtml(slug(status))}">${escapeHtml(status)}</span>`));
  const steps = stepsTrained(data.metrics);
  const epochs = data.metrics.filter((r) => r.kind === 'epoch' && finite(r.epoch)).map((r) => r.epoch as number);
  const planned = isObject(run.config) && isObject(run.config.train) && finite(run.config.train.epochs) ? run.config.train.epochs : undefined;
  if (steps !== undefined) {
    const epochText = epochs.length ? ` · ${formatNumber(Math.max(...epochs))}${planned !== undefined ? ` of ${formatNumber(planned)}` : ''} epochs` : '';
    facts.push(fact('trained', `${escapeHtml(steps.toLocaleString('en-US'))} steps${escapeHtml(epochText)}`));
  }
  const held = [`test.${primary}`, 'test.loss'].filter((k, i, all) => finite(final[k]) && all.indexOf(k) === i);
  if (held.length) {
    const train = final[`train.${primary}`];
    facts.push(
      fact(
        'held out (test)',
        held.map((k) => `${escapeHtml(k.slice('test.'.length))} ${num(final[k] as number)}`).join(' · ') +
          (finite(train) ? ` <span class="muted">(train ${escapeHtml(primary)} ${escapeHtml(formatNumber(train))})</span>` : ''),
      ),
    );
  }
  const worst = worstOod(final, primary);
  if (worst) {
    facts.push(
      fact('worst out-of-distribution split', `${escapeHtml(worst.split)}: ${escapeHtml(primary)} ${num(worst.value)} <span class="muted">(of ${worst.of} split${worst.of === 1 ? '' : 's'})</span>`),
    );
  }
  const rows = headlineRows(analyses);
  const table = rows.length
    ? `<table class="cols headline"><thead><tr><th scope="col">analysis</th><th scope="col">number</th><th scope="col">value</th><th scope="col">error bar</th><th scope="col">note</th></tr></thead><tbody>${rows.join('')}</tbody></table>`
    : analyses.length
      ? '<p class="muted">The analyses recorded no headline numbers.</p>'
      : '';
  return `<section id="headline" class="headline-card"><h2>Headline</h2><div class="facts">${facts.join('')}</div>${table}</section>`;
}

/** One learned-against-exact comparison: what the task knows exactly and what the trained model gave. */
export interface ExactComparison {
  split: string;
  quantity: string;
  learned: number;
  exact: number;
  /** The same quantity measured on the split's own sample (its sampling noise), when recorded. */
  sample?: number;
}

/**
 * Where the task records its exact solution in run.json (`task`), the numbers of the trained model
 * to set beside it: per split, the k-statistics κ₂…κ₄ of the model's outputs (`<split>.predK<n>`
 * in the final metrics) against the exact cumulants of the targets (`task.splits.<split>.exact.target`)
 * and the targets' own k-statistics; and with an `exactSolution`, the MSE against the exact map's
 * (0 on clean targets, the label-noise variance on train).
 */
export function exactComparisons(data: RunData): ExactComparison[] {
  const task = isObject(data.run.task) ? data.run.task : undefined;
  if (!task) return [];
  const final = finalMetrics(data);
  const out: ExactComparison[] = [];
  const splits = isObject(task.splits) ? task.splits : {};
  for (const split of orderSplits(Object.keys(splits))) {
    const info = splits[split];
    if (!isObject(info) || !isObject(info.exact) || !Array.isArray(info.exact.target)) continue;
    const exact = info.exact.target;
    const sample = isObject(info.kStatistics) && Array.isArray(info.kStatistics.target) ? info.kStatistics.target : undefined;
    for (let n = 1; n <= exact.length; n++) {
      const learned = final[`${split}.predK${n}`];
      const e = exact[n - 1];
      if (!finite(learned) || !finite(e)) continue;
      const s = sample?.[n - 1];
      out.push({ split, quantity: `κ${'₀₁₂₃₄₅₆₇₈₉'[n] ?? n}`, learned, exact: e, ...(finite(s) ? { sample: s } : {}) });
    }
  }
  if (isObject(task.exactSolution)) {
    const noise = finite(task.noise) ? task.noise : 0;
    for (const split of ['train', 'test']) {
      const mse = final[`${split}.mse`];
      if (finite(mse)) out.push({ split, quantity: 'MSE', learned: mse, exact: split === 'train' ? noise * noise : 0 });
    }
  }
  return out;
}

/** The learned-against-exact table, or '' when the task records no exact solution to compare with. */
export function exactSection(data: RunData): string {
  const rows = exactComparisons(data);
  if (rows.length === 0) return '';
  const task = isObject(data.run.task) ? data.run.task : {};
  const solution = isObject(task.exactSolution) && typeof task.exactSolution.description === 'string' ? task.exactSolution.description : undefined;
  const map = typeof task.cumulantMap === 'string' ? task.cumulantMap : undefined;
  const anySample = rows.some((r) => r.sample !== undefined);
  // the grid: a row per split, learned / exact / difference per quantity
  const quantities = [...new Set(rows.map((r) => r.quantity))];
  const splits = [...new Set(rows.map((r) => r.split))];
  const at = new Map(rows.map((r) => [`${r.split}\u0000${r.quantity}`, r]));
  const grid = columnTable(
    ['split', ...quantities.flatMap((q) => [`${q} learned`, `${q} exact`, `${q} Δ`])],
    splits.map((split) => [
      split,
      ...quantities.flatMap((q) => {
        const r = at.get(`${split}\u0000${q}`);
        return r ? [r.learned, r.exact, r.learned - r.exact] : [null, null, null];
      }),
    ]),
  );
  const list = columnTable(
    ['split', 'quantity', 'learned', 'exact', 'learned − exact', ...(anySample ? ['sample of the targets'] : [])],
    rows.map((r) => [r.split, r.quantity, r.learned, r.exact, r.learned - r.exact, ...(anySample ? [r.sample ?? null] : [])]),
  );
  const table = `<div class="scroll nowrap">${grid}</div>${details(`As a list${anySample ? ', with the targets’ own k-statistics' : ''}`, list)}`;
  const notes = [
    solution ? `<p>Exact solution: ${escapeHtml(solution)}.</p>` : '',
    map ? `<p class="muted">Cumulant map: ${escapeHtml(map)}.</p>` : '',
    `<p class="muted">${[
      anySample ? 'κₙ learned: the k-statistic of the trained model’s outputs on the split; κₙ exact: the exact cumulant of its targets (the list below adds the targets’ own k-statistics, how far the finite sample is from exact)' : '',
      quantities.includes('MSE') ? 'MSE exact: the exact map’s (the label-noise variance on train, 0 on clean targets)' : '',
      'Δ = learned − exact',
    ]
      .filter(Boolean)
      .join('; ')}.</p>`,
  ].join('');
  return `<section id="exact"><h2>Learned vs exact</h2>${notes}${table}</section>`;
}
