/**
 * Readable axes for every figure the report draws, whoever wrote its spec: a non-linear scale says
 * so in its title ("λ (symlog scale)"), symlog and square-root axes get explicit ticks (so values
 * below 0 and near it can be read), and log axes thin their labels instead of overlapping them.
 * `axisIssues` is the check: it reads the rendered SVG's axis descriptions and lists axes without
 * a title, or whose title hides a non-linear scale.
 */

type Spec = Record<string, unknown>;

const isRecord = (v: unknown): v is Spec => typeof v === 'object' && v !== null && !Array.isArray(v);

/** How a scale type is named in a title; linear, band, point, time and ordinal scales need nothing. */
const SCALE_WORDS: Record<string, string> = { log: 'log scale', symlog: 'symlog scale', sqrt: 'square-root scale', pow: 'power scale' };

/** A title already naming its scale: "(log axis)", "log scale", "square-root scale", "log₁₀". */
const NAMES_SCALE = /\b(log|symlog|square-root|sqrt|power)\b[^)]*\b(scale|axis)\b|log₁₀|\blog10\b/i;

const POSITION = ['x', 'y'] as const;
const CHANNELS = ['x', 'y', 'color', 'size', 'opacity'] as const;

/** The inline values of a spec's own data, or of the nearest ancestor's. */
function inlineValues(spec: Spec, inherited: unknown[] | undefined): unknown[] | undefined {
  const data = spec.data;
  if (isRecord(data) && Array.isArray(data.values)) return data.values;
  return inherited;
}

/** Every unit spec (one with a mark) with the data it draws, through layers, concats and facets. */
function units(spec: Spec, inherited: unknown[] | undefined, parentEncoding: Spec | undefined, out: { unit: Spec; values: unknown[] | undefined; encoding: Spec }[]): void {
  const values = inlineValues(spec, inherited);
  const encoding = { ...(parentEncoding ?? {}), ...(isRecord(spec.encoding) ? spec.encoding : {}) };
  if (spec.mark !== undefined) out.push({ unit: spec, values, encoding });
  for (const key of ['layer', 'hconcat', 'vconcat', 'concat']) {
    const list = spec[key];
    if (Array.isArray(list)) for (const child of list) if (isRecord(child)) units(child, values, key === 'layer' ? encoding : undefined, out);
  }
  if (isRecord(spec.spec)) units(spec.spec, values, undefined, out);
}

/** Decades 10^k between lo and hi (both > 0), at most `max` of them, thinned evenly. */
function decades(lo: number, hi: number, max: number): number[] {
  const k0 = Math.ceil(Math.log10(lo) - 1e-9);
  const k1 = Math.floor(Math.log10(hi) + 1e-9);
  const ks: number[] = [];
  for (let k = k0; k <= k1; k++) ks.push(k);
  if (ks.length <= max) return ks.map((k) => 10 ** k);
  const step = Math.ceil(ks.length / max);
  // keep the top decade, thin downwards
  return ks.filter((k) => (k1 - k) % step === 0).map((k) => 10 ** k);
}

/**
 * Tick values for a symlog axis over [min, max] with its `constant` C: 0 where the axis reaches it
 * (or comes within C of it), and whole decades either side from 10·C outwards (below that the
 * scale is nearly linear and decades would crowd 0), at most 5 a side.
 */
export function symlogTicks(min: number, max: number, constant = 1): number[] {
  const floor = 10 * Math.max(constant, 1e-300);
  const ticks = new Set<number>();
  if ((min <= 0 && max >= 0) || (min > 0 && min < constant) || (max < 0 && -max < constant)) ticks.add(0);
  const posHi = Math.max(max, 0);
  const negHi = Math.max(-min, 0);
  const posLo = Math.max(min > 0 ? min : 0, floor);
  const negLo = Math.max(max < 0 ? -max : 0, floor);
  if (posHi >= posLo) for (const d of decades(posLo, posHi, 5)) ticks.add(d);
  if (negHi >= negLo) for (const d of decades(negLo, negHi, 5)) ticks.add(-d);
  // a narrow range with no whole decade inside: its ends
  if ([...ticks].filter((t) => t !== 0).length === 0) {
    ticks.add(Number(min.toPrecision(2)));
    ticks.add(Number(max.toPrecision(2)));
  }
  return [...ticks].sort((a, b) => a - b);
}

/** Tick values for a square-root axis over [min ≥ 0, max]: 0 and points even in √ so the low end is readable. */
export function sqrtTicks(min: number, max: number): number[] {
  if (!(max > 0)) return [0];
  const lo = Math.max(min, 0);
  const out = new Set<number>([Number(lo.toPrecision(2))]);
  const r0 = Math.sqrt(lo);
  const r1 = Math.sqrt(max);
  for (let i = 1; i <= 4; i++) {
    const v = (r0 + ((r1 - r0) * i) / 4) ** 2;
    out.add(Number(v.toPrecision(2)));
  }
  return [...out].filter((v) => v <= max * 1.0001).sort((a, b) => a - b);
}

/** Tick labels: plain numbers from 0.001 to below 100 000, one-digit exponents outside. */
const LABEL_EXPR = "datum.value == 0 ? '0' : abs(datum.value) >= 0.001 && abs(datum.value) < 100000 ? format(datum.value, '~g') : format(datum.value, '.0e')";

function fieldValues(values: unknown[] | undefined, field: string): number[] {
  if (!values) return [];
  const out: number[] = [];
  for (const row of values) {
    const v = isRecord(row) ? row[field] : undefined;
    if (typeof v === 'number' && Number.isFinite(v)) out.push(v);
  }
  return out;
}

/** The scale word a channel's title needs, if its scale is non-linear. */
function scaleWord(channel: Spec): string | undefined {
  const scale = channel.scale;
  return isRecord(scale) && typeof scale.type === 'string' ? SCALE_WORDS[scale.type] : undefined;
}

function withScaleWord(title: string, word: string): string {
  return NAMES_SCALE.test(title) ? title : `${title} (${word})`;
}

/**
 * A copy of a Vega-Lite spec with readable axes: non-linear scales named in their titles (axes and
 * legends), a title from the field where a positional channel has none, explicit ticks on symlog
 * and square-root axes, and log axes that drop overlapping labels. Specs are left as they are
 * where they already say what is needed (an explicit `axis.values`, a title naming the scale).
 */
export function labelAxes<T extends Spec>(spec: T): T {
  const copy = structuredClone(spec) as Spec;
  const found: { unit: Spec; values: unknown[] | undefined; encoding: Spec }[] = [];
  units(copy, undefined, undefined, found);
  // titles and values per positional channel across layers (layers share their axes)
  const titles = new Map<string, string>();
  const allValues = new Map<string, number[]>();
  for (const { values, encoding } of found) {
    for (const ch of POSITION) {
      const enc = encoding[ch];
      if (!isRecord(enc)) continue;
      if (typeof enc.title === 'string' && enc.title.trim() && !titles.has(ch)) titles.set(ch, enc.title);
      if (typeof enc.field === 'string') allValues.set(ch, [...(allValues.get(ch) ?? []), ...fieldValues(values, enc.field)]);
      if (isRecord(encoding[`${ch}2`]) && typeof (encoding[`${ch}2`] as Spec).field === 'string') {
        allValues.set(ch, [...(allValues.get(ch) ?? []), ...fieldValues(values, (encoding[`${ch}2`] as Spec).field as string)]);
      }
    }
  }
  const fix = (holder: Spec): void => {
    if (!isRecord(holder.encoding)) return;
    const encoding = holder.encoding;
    for (const ch of CHANNELS) {
      const enc = encoding[ch];
      if (!isRecord(enc) || (enc.field === undefined && enc.aggregate === undefined)) continue;
      const positional = ch === 'x' || ch === 'y';
      if (positional && (enc.title === undefined || enc.title === null || enc.title === '')) {
        const shared = titles.get(ch);
        if (shared) enc.title = shared;
        else if (typeof enc.field === 'string') enc.title = enc.field;
      }
      const word = scaleWord(enc);
      if (!word) continue;
      if (typeof enc.title === 'string') enc.title = withScaleWord(enc.title, word);
      else if (enc.title === undefined && typeof enc.field === 'string') enc.title = withScaleWord(enc.field, word);
      if (!positional) continue;
      const scale = enc.scale as Spec;
      const axis: Spec = isRecord(enc.axis) ? enc.axis : {};
      if (enc.axis === null) continue;
      if (scale.type === 'log') {
        // overlapping labels on a log axis are never what a reader wants, even where a spec turned the check off
        if (axis.labelOverlap === undefined || axis.labelOverlap === false) axis.labelOverlap = 'greedy';
        if (axis.labelSeparation === undefined) axis.labelSeparation = 6;
      } else if ((scale.type === 'symlog' || scale.type === 'sqrt') && axis.values === undefined) {
        const vs = allValues.get(ch) ?? [];
        if (vs.length > 0) {
          let min = Infinity;
          let max = -Infinity;
          for (const v of vs) {
            if (v < min) min = v;
            if (v > max) max = v;
          }
          const constant = typeof scale.constant === 'number' ? scale.constant : 1;
          axis.values = scale.type === 'symlog' ? symlogTicks(min, max, constant) : sqrtTicks(min, max);
          if (axis.labelExpr === undefined && axis.format === undefined) axis.labelExpr = LABEL_EXPR;
          if (axis.labelOverlap === undefined) axis.labelOverlap = 'greedy';
        }
      }
      enc.axis = axis;
    }
  };
  for (const { unit } of found) fix(unit);
  // encodings on layered parents are seen through their children; fix them too
  const visitParents = (s: Spec): void => {
    if (s.mark === undefined) fix(s);
    for (const key of ['layer', 'hconcat', 'vconcat', 'concat']) {
      const list = s[key];
      if (Array.isArray(list)) for (const child of list) if (isRecord(child)) visitParents(child);
    }
    if (isRecord(s.spec)) visitParents(s.spec);
  };
  visitParents(copy);
  return copy as T;
}

/**
 * What is wrong with the axes of a rendered figure, one line per axis: an axis without a title, or
 * a log/symlog/square-root axis whose title does not say so. Read from the axis descriptions Vega
 * writes into the SVG (`aria-label="X-axis titled '…' for a log scale …"`).
 */
export function axisIssues(svg: string): string[] {
  const issues: string[] = [];
  const re = /aria-roledescription="axis" aria-label="([^"]*)"/g;
  for (const m of svg.matchAll(re)) {
    const label = m[1].replace(/&#39;/g, "'").replace(/&quot;/g, '"').replace(/&amp;/g, '&');
    const title = /^\S+ titled '(.*)' for a /.exec(label)?.[1];
    const scale = / for a (\w+) scale/.exec(label)?.[1];
    if (title === undefined || title.trim() === '') {
      issues.push(`axis without a title (${label})`);
      continue;
    }
    if (scale && SCALE_WORDS[scale] && !NAMES_SCALE.test(title)) issues.push(`${scale} axis titled '${title}' does not say it is ${SCALE_WORDS[scale]}`);
  }
  return issues;
}
