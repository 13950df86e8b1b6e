import { describe, expect, it } from 'vitest';
import { figureGrid, figureHtml, namespaceSvgIds } from './figure-html';
import { renderSvg } from './render-svg';

const clipped = {
  data: { values: Array.from({ length: 10 }, (_, i) => ({ x: i, y: i * i })) },
  mark: { type: 'line', clip: true },
  encoding: {
    x: { field: 'x', type: 'quantitative', scale: { domain: [2, 6] } },
    y: { field: 'y', type: 'quantitative' },
  },
};

describe('namespaceSvgIds', () => {
  it('renames ids by first appearance and rewrites their references', () => {
    const svg = '<svg><defs><clipPath id="clip7"><rect/></clipPath><linearGradient id="gradient_3"/></defs>' +
      '<g clip-path="url(#clip7)"><path fill="url(#gradient_3)"/><use href="#clip7"/></g></svg>';
    expect(namespaceSvgIds(svg, 'f1')).toBe(
      '<svg><defs><clipPath id="f1-1"><rect/></clipPath><linearGradient id="f1-2"/></defs>' +
        '<g clip-path="url(#f1-1)"><path fill="url(#f1-2)"/><use href="#f1-1"/></g></svg>',
    );
  });

  it('keeps two clipped vega charts on one page apart', async () => {
    const a = await renderSvg(clipped);
    expect(a).toMatch(/<clipPath id="clip\d+"/);
    const grid = await figureGrid(
      [
        { name: 'a', title: 'A', spec: clipped },
        { name: 'b', title: 'B', spec: clipped },
      ],
      'fig',
    );
    const ids = [...grid.matchAll(/<clipPath id="([^"]+)"/g)].map((m) => m[1]);
    expect(ids).toEqual(['fig-1-1', 'fig-2-1']);
    const refs = [...grid.matchAll(/clip-path="url\(#([^)]+)\)"/g)].map((m) => m[1]);
    expect(new Set(refs)).toEqual(new Set(ids));
  });
});

describe('figureHtml', () => {
  it('wraps the SVG with its escaped title and caption', async () => {
    const html = await figureHtml({ name: 'n', title: 'x < y', caption: 'a & b', spec: clipped }, 'f');
    expect(html.startsWith('<figure id="f"><figcaption><strong>x &lt; y</strong></figcaption><svg')).toBe(true);
    expect(html.endsWith('</svg><figcaption>a &amp; b</figcaption></figure>')).toBe(true);
  });

  it('turns a spec that fails into an error box with the reason', async () => {
    const html = await figureHtml({ name: 'n', title: 'T', spec: { mark: 'nonsense-mark' } }, 'f');
    expect(html).toContain('class="error"');
    expect(html).toContain('could not be rendered');
    expect(html).not.toContain('<svg');
  });
});
