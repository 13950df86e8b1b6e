import { View, parse, loader as vegaLoader } from 'vega';
import { compile, type Config, type TopLevelSpec } from 'vega-lite';
import { isObject } from '@goldstone/plugin-api';
import { labelAxes } from './axes';

/** A Vega-Lite specification with inline data, as analyses put in their figures. */
export type VegaLiteSpec = Record<string, unknown>;

export interface RenderOptions {
  /** Width of continuous-axis plots where the spec sets none (default 480). */
  width?: number;
  /** Height of continuous-axis plots where the spec sets none (default 260). */
  height?: number;
  /** Vega-Lite config merged over the default theme (the spec's own `config` wins over both). */
  config?: Config;
  /** Name non-linear scales in axis titles, tick symlog/square-root axes explicitly, thin log labels (default true; see `labelAxes`). */
  labelAxes?: boolean;
}

/** The report's plot theme: quiet axes, system fonts, white background. */
export const defaultTheme: Config = {
  background: 'white',
  padding: 8,
  font: 'system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif',
  view: { stroke: '#d0d4da' },
  title: { fontSize: 14, fontWeight: 600, anchor: 'start', color: '#1f2328', offset: 8 },
  axis: {
    labelColor: '#3d444d',
    titleColor: '#1f2328',
    labelFontSize: 11,
    titleFontSize: 12,
    titleFontWeight: 600,
    gridColor: '#eaeef2',
    domainColor: '#8c959f',
    tickColor: '#8c959f',
  },
  legend: { labelFontSize: 11, titleFontSize: 12, labelColor: '#3d444d', titleColor: '#1f2328', labelLimit: 240 },
  range: { category: { scheme: 'tableau10' } },
  line: { strokeWidth: 1.6 },
  point: { size: 36, filled: true },
};

const DEFAULT_WIDTH = 480;
const DEFAULT_HEIGHT = 260;

/** A loader that refuses to fetch anything: figures carry their data inline and reports never touch the network. */
export const offlineLoader = (() => {
  const base = vegaLoader();
  const refuse = (uri: string): Promise<never> =>
    Promise.reject(new Error(`figure loads data from "${uri}"; figures must carry their data inline`));
  return { ...base, load: refuse, sanitize: refuse, file: refuse, http: refuse } as unknown as ReturnType<typeof vegaLoader>;
})();

/** The first `url` a compiled Vega spec would load data from, if any. */
function findDataUrl(node: unknown): string | undefined {
  if (Array.isArray(node)) {
    for (const item of node) {
      const url = findDataUrl(item);
      if (url !== undefined) return url;
    }
    return undefined;
  }
  if (!isObject(node)) return undefined;
  if (Array.isArray(node.data)) {
    for (const d of node.data) if (isObject(d) && d.url !== undefined) return JSON.stringify(d.url);
  }
  for (const key of ['marks']) {
    const url = findDataUrl(node[key]);
    if (url !== undefined) return url;
  }
  return undefined;
}

function mergeConfig(base: Config, over: unknown): Config {
  if (!isObject(over)) return base;
  const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [key, value] of Object.entries(over)) {
    const prev = out[key];
    out[key] = isObject(prev) && isObject(value) ? mergeConfig(prev as Config, value) : value;
  }
  return out as Config;
}

/**
 * Compile a Vega-Lite spec to Vega with the report's theme, as every report figure is drawn:
 * plots without an explicit size get `width`×`height` for continuous axes; `width: 'container'`
 * (meaningless without a page layout) is replaced by the default width. External data URLs are
 * refused: figures carry their data inline. `logger` receives vega-lite's compile warnings.
 * Axes are made readable first (`labelAxes`: non-linear scales named in their titles, explicit
 * symlog/square-root ticks) unless `labelAxes: false`.
 */
export function compileFigureSpec(spec: VegaLiteSpec, options: RenderOptions = {}, logger?: CompileLogger): Record<string, unknown> {
  if (!isObject(spec)) throw new TypeError('renderSvg: spec must be a Vega-Lite specification object');
  const width = options.width ?? DEFAULT_WIDTH;
  const height = options.height ?? DEFAULT_HEIGHT;
  const theme = mergeConfig(
    mergeConfig(defaultTheme, {
      view: { continuousWidth: width, continuousHeight: height, discreteWidth: { step: 36 }, discreteHeight: { step: 28 } },
    }),
    options.config,
  );
  const input: Record<string, unknown> = { ...(options.labelAxes === false ? spec : labelAxes(spec)), config: mergeConfig(theme, spec.config) };
  if (input.width === 'container') input.width = width;
  if (input.height === 'container') input.height = height;

  const vgSpec = compile(input as unknown as TopLevelSpec, logger ? { logger } : {}).spec;
  const url = findDataUrl(vgSpec);
  if (url !== undefined) throw new Error(`figure loads data from ${url}; figures must carry their data inline`);
  return vgSpec as unknown as Record<string, unknown>;
}

/** What `compileFigureSpec` reports vega-lite's messages to (vega's logger interface). */
export type CompileLogger = NonNullable<NonNullable<Parameters<typeof compile>[1]>['logger']>;

/**
 * Render a Vega-Lite spec to an SVG string, headless (no browser, no canvas).
 *
 * The spec is compiled to Vega by `compileFigureSpec` and run in a vega `View` with
 * `renderer: 'none'`.
 */
export async function renderSvg(spec: VegaLiteSpec, options: RenderOptions = {}): Promise<string> {
  const vgSpec = compileFigureSpec(spec, options);
  const view = new View(parse(vgSpec as never), { renderer: 'none', loader: offlineLoader, logLevel: 0 });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
