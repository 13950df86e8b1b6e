import { messageOf } from '@goldstone/plugin-api';
import { escapeHtml } from './html';
import { interactiveFigureBody, type ReportMode } from './interactive';
import { renderSvg, type RenderOptions } from './render-svg';
import type { ReportFigure } from './training-curves';

/**
 * Give every `id` in an SVG a page-unique name (`<prefix>-<n>`, numbered by first appearance) and
 * rewrite the references to it, so several inline SVGs on one page never share a clip path or
 * gradient, and the same input renders to the same bytes.
 */
export function namespaceSvgIds(svg: string, prefix: string): string {
  const ids = new Map<string, string>();
  for (const m of svg.matchAll(/\sid="([^"]+)"/g)) if (!ids.has(m[1])) ids.set(m[1], `${prefix}-${ids.size + 1}`);
  if (ids.size === 0) return svg;
  const rename = (id: string): string => ids.get(id) ?? id;
  return svg
    .replace(/(\sid=")([^"]+)"/g, (_, a: string, id: string) => `${a}${rename(id)}"`)
    .replace(/url\(#([^)]+)\)/g, (_, id: string) => `url(#${rename(id)})`)
    .replace(/(href=")#([^"]+)"/g, (_, a: string, id: string) => `${a}#${rename(id)}"`);
}

/** Plot options with the report mode: `interactive` leaves the drawing to vega-embed in the page (see interactive.ts). */
export interface FigureOptions extends RenderOptions {
  mode?: ReportMode;
}

/**
 * One figure as HTML: its title, the inline SVG (or, interactive, the spec vega-embed draws) and its
 * caption. A spec that fails to render becomes a visible error box in its place, so one bad figure
 * never loses the whole report.
 */
export async function figureHtml(figure: ReportFigure, id: string, options: FigureOptions = {}): Promise<string> {
  const title = `<figcaption><strong>${escapeHtml(figure.title || figure.name)}</strong></figcaption>`;
  const caption = figure.caption ? `<figcaption>${escapeHtml(figure.caption)}</figcaption>` : '';
  try {
    if (options.mode === 'interactive') {
      const body = await interactiveFigureBody(figure.spec, escapeHtml(id), options);
      return `<figure id="${escapeHtml(id)}" class="interactive">${title}${body}${caption}</figure>`;
    }
    const svg = namespaceSvgIds(await renderSvg(figure.spec, options), id);
    return `<figure id="${escapeHtml(id)}">${title}${svg}${caption}</figure>`;
  } catch (error) {
    const message = messageOf(error);
    return (
      `<figure id="${escapeHtml(id)}" class="error">${title}` +
      `<figcaption>This figure could not be rendered: ${escapeHtml(message)}</figcaption></figure>`
    );
  }
}

/** Several figures laid out in a responsive grid, rendered one after another. */
export async function figureGrid(figures: ReportFigure[], idPrefix: string, options: FigureOptions = {}): Promise<string> {
  const parts: string[] = [];
  for (let i = 0; i < figures.length; i++) parts.push(await figureHtml(figures[i], `${idPrefix}-${i + 1}`, options));
  return parts.length ? `<div class="grid figures">${parts.join('')}</div>` : '';
}
