/**
 * The interactive report: the same page as the static one, but every figure is drawn in the
 * browser by vega-embed, with tooltips on hover, zoom and pan on the x/y scales of line and
 * scatter plots (drag, scroll; double-click resets), and series toggled by clicking the legend.
 *
 * It is still one file that opens offline: vega and vega-embed are inlined from their prebuilt
 * browser bundles in node_modules (read when the report is written), figures are compiled to Vega
 * in Node (so the page needs no vega-lite) and expressions run in vega's interpreter (no eval).
 * Its Content-Security-Policy allows exactly its own inline scripts, by hash, and no network.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { View, parse } from 'vega';
import { isObject, messageOf, UsageError } from '@goldstone/plugin-api';
import { STATIC_CSP } from './html';
import { compileFigureSpec, offlineLoader, type CompileLogger, type RenderOptions, type VegaLiteSpec } from './render-svg';

/** `static`: inline SVG, no scripts (the default). `interactive`: figures drawn by vega-embed in the page. */
export type ReportMode = 'static' | 'interactive';

/** The interactive run report, beside `report.html`. */
export const INTERACTIVE_REPORT_FILE = 'report.interactive.html';
/** The interactive sweep report, beside `sweep-report.html`. */
export const INTERACTIVE_SWEEP_REPORT_FILE = 'sweep-report.interactive.html';

type Spec = Record<string, unknown>;

/** What `interactiveSpec` adds to a figure. */
export interface Interactions {
  /** Tooltips with the encoded values (lines get transparent points to hover). */
  tooltip: boolean;
  /** Zoom and pan on x and y (`select: 'interval', bind: 'scales'`) in line and scatter plots. */
  zoom: boolean;
  /** Clicking a colour legend entry highlights its series (a legend-bound point selection driving opacity). */
  legend: boolean;
}

const ALL: Interactions = { tooltip: true, zoom: true, legend: true };
const COMPOSITE = new Set(['errorbar', 'errorband', 'boxplot']);
const ZOOM_HOSTS = new Set(['line', 'point', 'circle', 'square', 'trail']);
const CONTINUOUS = new Set(['quantitative', 'temporal']);
/** Opacity of a series that is not selected in the legend, relative to its own. */
const FADED = 0.15;

interface Unit {
  unit: Spec;
  /** The unit's encoding with what its parent layers share. */
  encoding: Spec;
  type: string;
  /** A line whose points were added only to be hovered (invisible). */
  hiddenPoints: boolean;
}

function markType(unit: Spec): string {
  return typeof unit.mark === 'string' ? unit.mark : isObject(unit.mark) && typeof unit.mark.type === 'string' ? unit.mark.type : '';
}

function markDef(unit: Spec): Spec {
  const def = typeof unit.mark === 'string' ? { type: unit.mark } : { ...(unit.mark as Spec) };
  unit.mark = def;
  return def;
}

/** The unit specs of a single view (a unit or a layer tree), each with its inherited encoding. */
function unitsOf(node: Spec, inherited: Spec, out: Unit[] = []): Unit[] {
  const encoding = { ...inherited, ...(isObject(node.encoding) ? node.encoding : {}) };
  if (Array.isArray(node.layer)) {
    for (const child of node.layer) if (isObject(child)) unitsOf(child, encoding, out);
  } else if (node.mark !== undefined) {
    out.push({ unit: node, encoding, type: markType(node), hiddenPoints: false });
  }
  return out;
}

function continuous(channel: unknown): boolean {
  return isObject(channel) && typeof channel.type === 'string' && CONTINUOUS.has(channel.type) && !channel.bin && !channel.aggregate;
}

function addParam(unit: Spec, param: Spec): void {
  unit.params = [...(Array.isArray(unit.params) ? unit.params : []), param];
}

function addTooltips(units: Unit[]): void {
  for (const u of units) {
    if (COMPOSITE.has(u.type) || u.type === 'area' || u.encoding.tooltip !== undefined) continue;
    const def = markDef(u.unit);
    if (def.tooltip !== undefined) continue;
    if (u.type === 'line' || u.type === 'trail') {
      // A line is one path: its own tooltip would show the first row. Hover its points instead.
      if (def.point === true || isObject(def.point)) def.point = { ...(isObject(def.point) ? def.point : {}), tooltip: true };
      else {
        def.point = { opacity: 0, size: 60, tooltip: true };
        u.hiddenPoints = true;
      }
    } else {
      def.tooltip = true;
    }
  }
}

function addZoom(units: Unit[], name: string): void {
  const bound = units.some((u) => Array.isArray(u.unit.params) && u.unit.params.some((p) => isObject(p) && p.bind === 'scales'));
  if (bound) return;
  const host = units.find((u) => ZOOM_HOSTS.has(u.type) && continuous(u.encoding.x) && continuous(u.encoding.y));
  if (host) addParam(host.unit, { name, select: 'interval', bind: 'scales' });
}

function addLegendToggle(units: Unit[], name: string): void {
  const colored = (u: Unit): string | undefined => {
    const c = u.encoding.color;
    if (!isObject(c) || typeof c.field !== 'string' || c.legend === null) return undefined;
    return c.type === 'nominal' || c.type === 'ordinal' ? c.field : undefined;
  };
  const host = units.find((u) => colored(u) !== undefined && !COMPOSITE.has(u.type));
  if (!host) return;
  const field = colored(host) as string;
  const targets = units.filter(
    (u) => colored(u) === field && !COMPOSITE.has(u.type) && u.encoding.opacity === undefined && u.encoding.strokeOpacity === undefined,
  );
  if (!targets.includes(host)) return;
  addParam(host.unit, { name, select: { type: 'point', fields: [field] }, bind: 'legend' });
  for (const u of targets) {
    const def = markDef(u.unit);
    const channel = u.hiddenPoints ? 'strokeOpacity' : 'opacity';
    const own = typeof def[channel] === 'number' ? (def[channel] as number) : 1;
    const faded = Math.round(own * FADED * 1000) / 1000;
    u.unit.encoding = { ...(isObject(u.unit.encoding) ? u.unit.encoding : {}), [channel]: { condition: { param: name, value: own, empty: true }, value: faded } };
  }
}

/**
 * A copy of a Vega-Lite spec with tooltips, zoom/pan and legend toggling added where they fit:
 * every view (a unit or a layer) of a concat, facet or repeat gets its own. Marks that already
 * say what their tooltip or opacity is keep it; composite marks (error bars, box plots) and areas
 * get no tooltip.
 */
export function interactiveSpec(spec: VegaLiteSpec, features: Interactions = ALL): VegaLiteSpec {
  const copy = structuredClone(spec) as Spec;
  let n = 0;
  const visit = (node: Spec): void => {
    if (Array.isArray(node.layer) || node.mark !== undefined) {
      const units = unitsOf(node, {});
      if (features.tooltip) addTooltips(units);
      if (features.zoom) addZoom(units, `zoom_${++n}`);
      if (features.legend) addLegendToggle(units, `legend_${++n}`);
      return;
    }
    for (const key of ['hconcat', 'vconcat', 'concat']) {
      const list = node[key];
      if (Array.isArray(list)) for (const child of list) if (isObject(child)) visit(child);
    }
    if (isObject(node.spec)) visit(node.spec);
  };
  visit(copy);
  return copy;
}

/** A vega logger that counts warnings and keeps errors. */
function collector(): { logger: CompileLogger; warnings: () => number; errors: unknown[] } {
  let warnings = 0;
  const errors: unknown[] = [];
  const logger = {
    level: (level?: number) => (level === undefined ? 2 : logger),
    error: (...args: unknown[]) => (errors.push(args[0]), logger),
    warn: () => (warnings++, logger),
    info: () => logger,
    debug: () => logger,
  } as unknown as CompileLogger;
  return { logger, warnings: () => warnings, errors };
}

/**
 * Compile `spec` (counting vega-lite's warnings) and run its dataflow once in Node (where only an
 * error counts: the runtime warns about browser event sources it has no window for).
 */
async function tryFigure(spec: VegaLiteSpec, options: RenderOptions): Promise<{ vega: Spec; warnings: number } | { error: unknown }> {
  const compiling = collector();
  const running = collector();
  try {
    const vega = compileFigureSpec(spec, options, compiling.logger);
    const view = new View(parse(vega as never), { renderer: 'none', loader: offlineLoader, logger: running.logger as never });
    try {
      await view.runAsync();
    } finally {
      view.finalize();
    }
    const errors = [...compiling.errors, ...running.errors];
    return errors.length ? { error: errors[0] } : { vega, warnings: compiling.warnings() };
  } catch (error) {
    return { error };
  }
}

const LADDER: Interactions[] = [ALL, { tooltip: true, zoom: true, legend: false }, { tooltip: true, zoom: false, legend: false }];

/**
 * The Vega spec an interactive figure embeds: the figure with as many interactions as compile and
 * run cleanly (all three; else without legend toggling; else tooltips only; else none), themed
 * and sized as the static figure. Throws when the figure itself cannot be drawn.
 */
export async function interactiveVegaSpec(spec: VegaLiteSpec, options: RenderOptions = {}): Promise<Spec> {
  const plain = await tryFigure(spec, options);
  if ('error' in plain) throw plain.error instanceof Error ? plain.error : new Error(messageOf(plain.error));
  for (const features of LADDER) {
    const tried = await tryFigure(interactiveSpec(spec, features), options);
    if (!('error' in tried) && tried.warnings <= plain.warnings) return tried.vega;
  }
  return plain.vega;
}

/** JSON safe inside a <script type="application/json"> element (no `</script>`, no line separators). */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/** The body of an interactive figure: a placeholder vega-embed draws into and the spec as a JSON data block. */
export async function interactiveFigureBody(spec: VegaLiteSpec, id: string, options: RenderOptions = {}): Promise<string> {
  const vega = await interactiveVegaSpec(spec, options);
  return `<div class="vega-figure" data-spec="${id}-spec"></div><script type="application/json" id="${id}-spec">${scriptJson(vega)}</script>`;
}

/** Draws every figure with vega-embed; a figure that fails says so in its place (and on the console). */
const BOOT = `(function () {
  var options = { mode: 'vega', renderer: 'svg', ast: true, tooltip: { theme: 'light' },
    actions: { export: true, source: false, compiled: false, editor: false } };
  function fail(el, error) {
    el.setAttribute('data-rendered', 'failed');
    el.textContent = 'This figure could not be drawn: ' + ((error && error.message) || error);
    console.error(error);
  }
  var figures = document.querySelectorAll('div.vega-figure[data-spec]');
  Array.prototype.forEach.call(figures, function (el) {
    var spec;
    try {
      spec = JSON.parse(document.getElementById(el.getAttribute('data-spec')).textContent);
    } catch (error) {
      fail(el, error);
      return;
    }
    var own = Object.assign({ downloadFileName: el.parentNode.id || 'figure' }, options);
    vegaEmbed(el, spec, own).then(function () { el.setAttribute('data-rendered', 'true'); }, function (error) { fail(el, error); });
  });
})();`;

// One figure a row: figures keep their drawn size (pointer positions for zoom and pan stay exact)
// and their legends fit beside them; a wider one scrolls.
const STYLE = `.grid.figures { grid-template-columns: minmax(0, 1fr); }
.vega-figure { max-width: 100%; overflow-x: auto; }
.vega-figure svg { max-width: none; }
p.interactive-hint { margin: 8px 0 0; font-size: 13px; }`;

const HINT =
  '<p class="interactive-hint muted">Interactive report: hover a point for its values; drag or scroll a line or scatter plot to pan and zoom it ' +
  '(double-click resets); click a legend entry to highlight its series (shift-click for more, click empty space to show all). ' +
  'The static report.html beside it has the same content without scripts.</p>';

/** The browser bundles inlined into an interactive page, in load order. */
export interface Bundles {
  vega: string;
  vegaEmbed: string;
}

let bundles: Bundles | undefined;

/**
 * Read vega's and vega-embed's prebuilt browser bundles from node_modules (once per process).
 * A missing one is a UsageError saying which package to install.
 */
export function readBundles(): Bundles {
  if (bundles) return bundles;
  const require = createRequire(import.meta.url);
  const read = (pkg: string, file: string): string => {
    let path: string;
    try {
      path = join(dirname(require.resolve(pkg)), file);
    } catch {
      throw new UsageError(`${pkg}: not installed: the interactive report inlines ${pkg}'s browser bundle; install it with \`npm install ${pkg}\``);
    }
    try {
      // without its source-map comment: the page has nothing beside it to point to
      return readFileSync(path, 'utf8').replace(/\n?\/\/# sourceMappingURL=\S+\s*$/, '\n');
    } catch {
      throw new UsageError(`${path}: not found: the interactive report inlines this browser bundle of ${pkg}; reinstall ${pkg}`);
    }
  };
  bundles = { vega: read('vega', 'vega.min.js'), vegaEmbed: read('vega-embed', 'vega-embed.min.js') };
  return bundles;
}

/** The CSP hash source of an inline script. */
export function scriptHash(source: string): string {
  return `'sha256-${createHash('sha256').update(source, 'utf8').digest('base64')}'`;
}

/** An inline script's text with every `</script` made harmless (same meaning in JavaScript strings and regexes). */
function inlineScript(source: string): string {
  return source.replace(/<\/script/gi, '<\\/script');
}

/**
 * Turn a report page built with `mode: 'interactive'` figures into the interactive page: the strict
 * static CSP is replaced by one that allows exactly the page's inline scripts (by sha256) and still
 * no network, and vega, vega-embed and the script that draws the figures are inlined before </body>.
 */
export function interactivePage(html: string, scripts: Bundles = readBundles()): string {
  const meta = `<meta http-equiv="Content-Security-Policy" content="${STATIC_CSP}">`;
  const at = html.indexOf(meta);
  if (at < 0 || html.indexOf(meta, at + 1) >= 0 || !['</head>', '<main>', '</body>'].every((tag) => html.includes(tag))) {
    throw new Error('interactivePage: expected a report page with one static Content-Security-Policy, </head>, <main> and </body>');
  }
  const sources = [scripts.vega, scripts.vegaEmbed, BOOT].map(inlineScript);
  const csp = `default-src 'none'; script-src ${sources.map(scriptHash).join(' ')}; style-src 'unsafe-inline'; img-src data:`;
  const tags = sources.map((s) => `<script>${s}</script>`).join('\n');
  // Replacer functions: the bundles contain `$&`-like sequences a replacement string would expand.
  return html
    .replace(meta, () => `<meta http-equiv="Content-Security-Policy" content="${csp}">`)
    .replace('</head>', () => `<style>${STYLE}</style>\n</head>`) // after the page's own stylesheet, to override it
    .replace(html.includes('</header>') ? '</header>' : '<main>', (tag) => (tag === '<main>' ? `<main>${HINT}` : `${HINT}</header>`))
    .replace('Self-contained: no scripts, no network.', () => 'Self-contained: its scripts are inlined, no network.')
    .replace('</body>', () => `${tags}\n</body>`);
}
