import { describe, expect, it } from 'vitest';
import { renderSvg } from './render-svg';

/** Parse the SVG string enough to check it is one well-formed element tree. */
function assertWellFormedSvg(svg: string): void {
  expect(svg.startsWith('<svg')).toBe(true);
  expect(svg).toContain('xmlns="http://www.w3.org/2000/svg"');
  const stack: string[] = [];
  const tag = /<(\/?)([a-zA-Z][\w:-]*)((?:[^>"']|"[^"]*"|'[^']*')*?)(\/?)>/g;
  let m: RegExpExecArray | null;
  let last = 0;
  while ((m = tag.exec(svg))) {
    const between = svg.slice(last, m.index);
    expect(between).not.toMatch(/[<>]/);
    last = tag.lastIndex;
    const [, closing, name, , selfClosing] = m;
    if (closing) expect(stack.pop()).toBe(name);
    else if (!selfClosing) stack.push(name);
  }
  expect(svg.slice(last)).toBe('');
  expect(stack).toEqual([]);
}

describe('renderSvg', () => {
  it('renders a line chart with a path through every point', async () => {
    const values = Array.from({ length: 20 }, (_, i) => ({ step: i, loss: Math.exp(-i / 5) }));
    const svg = await renderSvg({
      data: { values },
      mark: 'line',
      encoding: {
        x: { field: 'step', type: 'quantitative' },
        y: { field: 'loss', type: 'quantitative', scale: { type: 'log' } },
      },
    });
    assertWellFormedSvg(svg);
    expect(svg).toContain('role-mark');
    expect(svg).toContain('mark-line');
    const path = /class="mark-line[^"]*"[^>]*>\s*<path[^>]*d="([^"]+)"/.exec(svg);
    expect(path).not.toBeNull();
    // one M and 19 L commands for 20 points
    const commands = path![1].match(/[ML]/g) ?? [];
    expect(commands.length).toBe(20);
    // a log axis says so in its title
    expect(svg).toContain('>loss (log scale)<');
    expect(svg).toContain('>step<');
  });

  it('renders a point chart with one symbol per datum', async () => {
    const values = [
      { x: 1, y: 2, group: 'a' },
      { x: 2, y: 1, group: 'b' },
      { x: 3, y: 5, group: 'a' },
      { x: 4, y: 3, group: 'b' },
      { x: 5, y: 4, group: 'a' },
    ];
    const svg = await renderSvg({
      data: { values },
      mark: 'point',
      encoding: {
        x: { field: 'x', type: 'quantitative' },
        y: { field: 'y', type: 'quantitative' },
        color: { field: 'group', type: 'nominal' },
      },
    });
    assertWellFormedSvg(svg);
    const group = /<g class="mark-symbol role-mark marks"[^>]*>(.*?)<\/g>/s.exec(svg);
    expect(group).not.toBeNull();
    expect(group![1].match(/<path /g)?.length).toBe(values.length);
    // the legend names both groups
    expect(svg).toMatch(/>a</);
    expect(svg).toMatch(/>b</);
  });

  it('renders a heat map with one rect per cell, filled by value', async () => {
    const values: { i: number; j: number; v: number }[] = [];
    for (let i = 0; i < 4; i++) for (let j = 0; j < 3; j++) values.push({ i, j, v: i * 3 + j });
    const svg = await renderSvg({
      data: { values },
      mark: 'rect',
      encoding: {
        x: { field: 'i', type: 'ordinal' },
        y: { field: 'j', type: 'ordinal' },
        color: { field: 'v', type: 'quantitative' },
      },
    });
    assertWellFormedSvg(svg);
    const group = /<g class="mark-rect role-mark marks"[^>]*>(.*?)<\/g>/s.exec(svg);
    expect(group).not.toBeNull();
    const fills = [...group![1].matchAll(/<path [^>]*fill="([^"]+)"/g)].map((m) => m[1]);
    expect(fills.length).toBe(12);
    expect(new Set(fills).size).toBe(12);
  });

  it('gives plots without a size the default size, and respects an explicit one', async () => {
    const spec = { data: { values: [{ x: 0, y: 0 }, { x: 1, y: 1 }] }, mark: 'line', encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'y', type: 'quantitative' } } };
    const dflt = await renderSvg(spec);
    expect(dflt).toContain('d="M0.5,0.5h480v260h-480Z"');
    const sized = await renderSvg({ ...spec, width: 200, height: 100 });
    expect(sized).toContain('d="M0.5,0.5h200v100h-200Z"');
    const opt = await renderSvg(spec, { width: 300, height: 150 });
    expect(opt).toContain('d="M0.5,0.5h300v150h-300Z"');
  });

  it('escapes text from data inside the SVG', async () => {
    const svg = await renderSvg({
      data: { values: [{ label: '<script>alert(1)</script>', v: 1 }] },
      mark: 'bar',
      encoding: { x: { field: 'label', type: 'nominal' }, y: { field: 'v', type: 'quantitative' } },
    });
    expect(svg).not.toContain('<script');
    expect(svg).toContain('&lt;script&gt;');
  });

  it('refuses to load external data', async () => {
    await expect(
      renderSvg({ data: { url: 'https://example.com/data.json' }, mark: 'point', encoding: { x: { field: 'x', type: 'quantitative' } } }),
    ).rejects.toThrow(/inline/);
  });
});
