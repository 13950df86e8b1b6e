/**
 * Small HTML building blocks shared by every report: escaping, the page shell with its inline
 * stylesheet, sections, key–value and column tables. Everything that comes from data goes
 * through `escapeHtml`; functions taking `body` expect HTML that is already safe.
 */

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escape text for use in HTML content or a quoted attribute. */
export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

/** A slug usable as an element id (letters, digits, dashes). */
export function slug(text: string): string {
  const s = text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return s || 'section';
}

/** Format a number for a table: integers in full, others with 4 significant digits. */
export function formatNumber(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x > 0 ? '∞' : '−∞';
  if (Number.isInteger(x) && Math.abs(x) < 1e15) return String(x);
  const a = Math.abs(x);
  if (a !== 0 && (a < 1e-3 || a >= 1e6)) return x.toExponential(3).replace('e+', 'e');
  return String(Number(x.toPrecision(4)));
}

/** A value for display in a table cell (already escaped). */
export function formatCell(value: unknown): string {
  if (typeof value === 'number') return `<span class="num">${escapeHtml(formatNumber(value))}</span>`;
  if (value === null || value === undefined) return '<span class="muted">—</span>';
  if (typeof value === 'object') return `<code>${escapeHtml(JSON.stringify(value))}</code>`;
  return escapeHtml(value);
}

/** A two-column table of keys and values ("None." when there are no rows). */
export function keyValueTable(rows: [string, unknown][], options: { className?: string } = {}): string {
  if (rows.length === 0) return '<p class="muted">None.</p>';
  const body = rows.map(([k, v]) => `<tr><th scope="row">${escapeHtml(k)}</th><td>${formatCell(v)}</td></tr>`).join('');
  return `<table class="kv${options.className ? ` ${escapeHtml(options.className)}` : ''}"><tbody>${body}</tbody></table>`;
}

/** A table with a header row; cells are formatted with `formatCell`. */
export function columnTable(headers: string[], rows: unknown[][]): string {
  if (rows.length === 0) return '<p class="muted">None.</p>';
  const head = headers.map((h) => `<th scope="col">${escapeHtml(h)}</th>`).join('');
  const body = rows.map((r) => `<tr>${r.map((c) => `<td>${formatCell(c)}</td>`).join('')}</tr>`).join('');
  return `<table class="cols"><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`;
}

/** A titled section with an anchor; `body` is trusted HTML. */
export function section(title: string, body: string, id = slug(title)): string {
  return `<section id="${escapeHtml(id)}"><h2>${escapeHtml(title)}</h2>${body}</section>`;
}

/** A collapsible block; `body` is trusted HTML. */
export function details(summary: string, body: string, open = false, className?: string): string {
  return `<details${className ? ` class="${escapeHtml(className)}"` : ''}${open ? ' open' : ''}><summary>${escapeHtml(summary)}</summary>${body}</details>`;
}

/** Pretty-printed JSON in a <pre> block. */
export function jsonBlock(value: unknown): string {
  return `<pre class="json">${escapeHtml(JSON.stringify(value, null, 2) ?? 'undefined')}</pre>`;
}

const STYLE = `
:root { color-scheme: light; --fg: #1f2328; --muted: #59636e; --line: #d0d7de; --bg-soft: #f6f8fa;
  --ok: #1a7f37; --warn: #9a6700; --bad: #cf222e; --info: #0969da; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif;
  color: var(--fg); background: #fff; }
main { max-width: 1100px; margin: 0 auto; padding: 24px 32px 64px; }
header.top { border-bottom: 1px solid var(--line); padding-bottom: 12px; margin-bottom: 8px; }
h1 { font-size: 26px; margin: 0 0 6px; word-break: break-word; }
h2 { font-size: 20px; margin: 32px 0 12px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
h3 { font-size: 16px; margin: 24px 0 8px; }
nav.toc { font-size: 13px; color: var(--muted); margin: 8px 0 0; }
nav.toc a { color: var(--info); text-decoration: none; margin-right: 14px; }
.badge { display: inline-block; padding: 1px 10px; border-radius: 999px; font-size: 13px; font-weight: 600;
  border: 1px solid currentColor; vertical-align: middle; }
.status-completed { color: var(--ok); } .status-running, .status-created { color: var(--info); }
.status-interrupted { color: var(--warn); } .status-diverged, .status-failed { color: var(--bad); }
.alert { border: 2px solid var(--bad); background: #ffebe9; border-radius: 6px; padding: 12px 16px; margin: 16px 0; }
.alert.warn { border-color: var(--warn); background: #fff8c5; }
.alert h2 { border: 0; margin: 0 0 6px; font-size: 18px; color: var(--bad); }
.alert.warn h2 { color: var(--warn); }
.alert pre { margin: 6px 0 0; white-space: pre-wrap; font-size: 13px; }
.meta { color: var(--muted); margin: 0; }
table { border-collapse: collapse; margin: 8px 0 16px; font-size: 13px; }
th, td { border: 1px solid var(--line); padding: 4px 10px; text-align: left; vertical-align: top; }
thead th, table.kv th { background: var(--bg-soft); font-weight: 600; }
table.kv th { white-space: nowrap; font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-weight: 500; }
td { word-break: break-word; max-width: 640px; }
td .num { font-variant-numeric: tabular-nums; white-space: nowrap; }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(300px, 1fr)); gap: 0 32px; align-items: start; }
.grid.figures { grid-template-columns: repeat(auto-fit, minmax(460px, 1fr)); }
.muted { color: var(--muted); }
code, pre { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12px; }
pre.json { background: var(--bg-soft); border: 1px solid var(--line); border-radius: 6px; padding: 10px 12px;
  overflow: auto; max-height: 480px; margin: 8px 0; }
details { margin: 8px 0; }
details > summary { cursor: pointer; font-weight: 600; }
figure { margin: 12px 0 24px; }
figure svg { max-width: 100%; height: auto; display: block; }
figcaption { font-size: 13px; color: var(--muted); margin-top: 4px; }
figure.error { border: 1px dashed var(--bad); padding: 8px 12px; border-radius: 6px; }
figure.error figcaption { color: var(--bad); }
.analysis { margin-top: 8px; }
.headline-card { border: 1px solid var(--line); border-radius: 8px; padding: 4px 20px 12px; margin: 16px 0; background: var(--bg-soft); }
.headline-card h2 { margin-top: 12px; }
.facts { display: flex; flex-wrap: wrap; gap: 8px 32px; margin: 4px 0 12px; }
.fact-label { font-size: 12px; color: var(--muted); }
.fact-value { font-size: 16px; }
table.headline { background: #fff; }
.scroll { overflow-x: auto; }
.nowrap th, .nowrap td:first-child { white-space: nowrap; }
footer { margin-top: 48px; font-size: 12px; color: var(--muted); border-top: 1px solid var(--line); padding-top: 8px; }
@media print { details { display: block; } details > summary { display: none; } }
`;

/** The static report's Content-Security-Policy: no scripts, no network, inline styles and data: images only. */
export const STATIC_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:";

/**
 * A complete, self-contained HTML document: inline CSS, no scripts, no external resources.
 * A Content-Security-Policy forbids scripts and network loads, so the page works the same from
 * `file://` and cannot run anything that slipped into the data.
 */
export function page(options: { title: string; body: string }): string {
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="${STATIC_CSP}">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<meta name="generator" content="@goldstone/report">',
    `<title>${escapeHtml(options.title)}</title>`,
    `<style>${STYLE}</style>`,
    '</head>',
    '<body>',
    `<main>${options.body}</main>`,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}
