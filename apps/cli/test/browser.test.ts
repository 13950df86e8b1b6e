/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * The reports in a real browser: Debian's Chromium (`/usr/bin/chromium`, which `.ci/run` installs;
 * GOLDSTONE_CHROMIUM points elsewhere) driven by puppeteer-core, which downloads no browser.
 * A quick quickstart run and a small sweep are made with the built CLI, their static and
 * interactive reports opened from file://; any console error, page error or network request
 * fails. Figures are counted against the report's <figure> elements, a point is hovered for its
 * tooltip, a legend entry clicked and a plot zoomed. Everything lands in
 * apps/cli/test-artifacts/browser/ (git-ignored, emptied at the start): the run, the sweep and a
 * screenshot of each report, kept as CI artifacts.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { beforeAll, describe, expect, it } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));
const bin = resolve(here, '..', 'dist', 'bin.js');
const repo = resolve(here, '..', '..', '..');
const quickstart = join(repo, 'experiments', 'quickstart.yaml');
const artifacts = resolve(here, '..', 'test-artifacts', 'browser');
const runDir = join(artifacts, 'run');
const sweepDir = join(artifacts, 'sweep');
const chromium = process.env.GOLDSTONE_CHROMIUM || '/usr/bin/chromium';
const WAIT = 120_000;

function goldstone(args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: repo, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, timeout: 240_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function ok(args: string[]): void {
  const r = goldstone(args);
  expect(r.code, `goldstone ${args.join(' ')}\n${r.stderr}`).toBe(0);
}

/** The number of figures a report file contains, read from its HTML (not from the page). */
function figuresIn(file: string): number {
  return (readFileSync(file, 'utf8').match(/<figure id="/g) ?? []).length;
}

/** Launch Chromium, hand a page to `use`, and close the browser whatever happens. */
async function withPage<T>(use: (page: Page) => Promise<T>): Promise<T> {
  if (!existsSync(chromium)) {
    throw new Error(
      `${chromium} not found: the browser test needs Debian's Chromium: install it with \`apt-get install -y chromium\` ` +
        '(.ci/run does), or point GOLDSTONE_CHROMIUM at a Chrome or Chromium binary',
    );
  }
  let browser: Browser | undefined;
  try {
    browser = await puppeteer.launch({
      executablePath: chromium,
      headless: true,
      args: ['--headless=new', '--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu', '--no-first-run'],
      timeout: WAIT,
      protocolTimeout: 240_000,
    });
    const page = await browser.newPage();
    page.setDefaultTimeout(WAIT);
    await page.setViewport({ width: 1280, height: 960 });
    return await use(page);
  } finally {
    await browser?.close();
  }
}

/** Open a report from file://, recording console errors, page errors and any request for something else. */
async function open(page: Page, file: string): Promise<string[]> {
  const url = pathToFileURL(file).href;
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console error: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e instanceof Error ? e.message : String(e)}`));
  page.on('request', (r) => {
    if (r.url() !== url && !r.url().startsWith('data:')) problems.push(`request: ${r.url()}`);
  });
  await page.goto(url, { waitUntil: 'load', timeout: WAIT });
  return problems;
}

/** Static report: every figure is an inline SVG with a size, none is an error box. */
async function checkStatic(page: Page, file: string, shot: string): Promise<void> {
  const expected = figuresIn(file);
  expect(expected).toBeGreaterThan(0);
  const problems = await open(page, file);
  const counts = await page.evaluate(() => ({
    figures: document.querySelectorAll('figure').length,
    svgs: [...document.querySelectorAll('figure > svg')].filter((s) => s.getBoundingClientRect().width > 0 && s.getBoundingClientRect().height > 0).length,
    errors: document.querySelectorAll('figure.error').length,
    scripts: document.scripts.length,
  }));
  expect(counts).toEqual({ figures: expected, svgs: expected, errors: 0, scripts: 0 });
  await page.screenshot({ path: join(artifacts, shot) });
  expect(problems).toEqual([]);
}

/** Interactive report: wait for vega-embed to draw every figure; each one an SVG with marks. */
async function checkInteractive(page: Page, file: string): Promise<string[]> {
  const expected = figuresIn(file);
  expect(expected).toBeGreaterThan(0);
  const problems = await open(page, file);
  await page.waitForFunction(() => [...document.querySelectorAll('div.vega-figure')].every((el) => el.hasAttribute('data-rendered')), { timeout: WAIT });
  const counts = await page.evaluate(() => ({
    figures: document.querySelectorAll('figure').length,
    drawn: [...document.querySelectorAll('div.vega-figure[data-rendered="true"] svg.marks')].filter((s) => s.getBoundingClientRect().width > 0).length,
    failed: [...document.querySelectorAll('div.vega-figure[data-rendered="failed"]')].map((el) => el.textContent),
  }));
  expect(counts).toEqual({ figures: expected, drawn: expected, failed: [] });
  return problems;
}

/**
 * Hover a data point of the first figure with hoverable symbols (preferring one with a legend)
 * and check the tooltip shows that point's values; returns the figure's id.
 */
async function hoverPoint(page: Page): Promise<string> {
  const target = await page.evaluate(() => {
    const figures = [...document.querySelectorAll('div.vega-figure')];
    const withSymbols = figures.filter((el) => el.querySelector('g.mark-symbol.role-mark path'));
    const el = withSymbols.find((f) => f.querySelector('g.role-legend')) ?? withSymbols[0];
    if (!el) return undefined;
    const paths = [...el.querySelectorAll('g.mark-symbol.role-mark path')];
    const index = Math.floor(paths.length / 2);
    paths[index].setAttribute('data-hover-target', 'true');
    return { id: (el.parentElement as HTMLElement).id, datum: (paths[index] as any).__data__?.datum as Record<string, unknown> };
  });
  expect(target, 'a figure with points to hover').toBeDefined();
  const handle = await page.waitForSelector('[data-hover-target="true"]');
  await handle!.scrollIntoView();
  const box = await handle!.boundingBox();
  expect(box).not.toBeNull();
  await page.mouse.move(box!.x + box!.width / 2, box!.y + box!.height / 2);
  await page.waitForSelector('#vg-tooltip-element.visible', { timeout: WAIT });
  const shown = await page.$$eval('#vg-tooltip-element tr', (rows) => rows.map((r) => [r.querySelector('.key')?.textContent ?? '', r.querySelector('.value')?.textContent ?? '']));
  const datum = target!.datum;
  const values = Object.values(datum).filter((v) => typeof v === 'number' || typeof v === 'string');
  const sameNumber = (text: string, v: unknown): boolean =>
    typeof v === 'number' && Math.abs(Number(text.replace(/,/g, '').replace(/\u2212/g, '-')) - v) <= 1e-6 * Math.max(1, Math.abs(v));
  const matches = (text: string): boolean => values.some((v) => sameNumber(text, v) || v === text);
  // the tooltip shows this point: every value in it is one of the hovered row's, at least one a number
  expect(shown.length, JSON.stringify(shown)).toBeGreaterThanOrEqual(2);
  for (const [key, text] of shown) expect(matches(text), `tooltip ${key}: ${text} is a value of ${JSON.stringify(datum)}`).toBe(true);
  expect(shown.some(([, text]) => values.some((v) => sameNumber(text, v)))).toBe(true);
  return target!.id;
}

/** Click the first legend entry of a figure: the other series fade. */
async function toggleLegend(page: Page, id: string): Promise<void> {
  await page.mouse.move(0, 0); // away from the plot: the tooltip hides and cannot cover the legend
  await page.waitForSelector('#vg-tooltip-element.visible', { hidden: true, timeout: WAIT });
  const entry = await page.$(`#${id} g.role-legend-symbol path`);
  expect(entry, `a legend in #${id}`).not.toBeNull();
  await entry!.click();
  await page.waitForFunction(
    (fid) => document.querySelector(`#${fid} svg.marks`)!.querySelectorAll('[opacity="0.15"], [stroke-opacity="0.15"]').length > 0,
    { timeout: WAIT },
    id,
  );
}

/** Scroll the mouse wheel over a figure's plot: its x axis labels change (zoom). */
async function zoom(page: Page, id: string): Promise<void> {
  const axis = `#${id} g.role-axis[aria-label^="X-axis"]`;
  const labels = (): Promise<string> => page.$eval(axis, (g) => [...g.querySelectorAll('text')].map((t) => t.textContent).join('|'));
  const before = await labels();
  expect(before).not.toBe('');
  const box = await (await page.$(axis))!.boundingBox();
  await page.mouse.move(box!.x + box!.width / 2, box!.y - 40); // inside the plot, just above the x axis
  await page.mouse.wheel({ deltaY: -400 });
  await page.waitForFunction(
    (sel, was) => [...document.querySelector(sel)!.querySelectorAll('text')].map((t) => t.textContent).join('|') !== was,
    { timeout: WAIT },
    axis,
    before,
  );
}

describe('reports in Chromium', () => {
  beforeAll(() => {
    rmSync(artifacts, { recursive: true, force: true });
    mkdirSync(artifacts, { recursive: true });
    ok(['run', quickstart, '--quick', '--out', runDir, '--quiet']);
    ok(['report', runDir, '--interactive']);
    const experiment = join(artifacts, 'sweep.json');
    writeFileSync(
      experiment,
      JSON.stringify({
        name: 'browser-sweep',
        backend: 'cpu',
        task: { name: 'clt', options: { sites: 8, block: 2, trainSize: 128, testSize: 64 } },
        model: { name: 'mlp', options: { hidden: [8], activation: 'relu' } },
        train: { optimizer: 'adam', lr: 0.01, epochs: 2, batchSize: 32 },
        sweep: { grid: { 'train.lr': [0.01, 0.03] }, seeds: [1, 2] },
      }),
    );
    ok(['sweep', experiment, '--out', sweepDir, '--workers', '2']);
    ok(['report', sweepDir, '--interactive']);
  }, 600_000);

  it('goldstone report wrote both reports for the run and the sweep, and refuses a directory that is neither', () => {
    for (const f of ['report.html', 'report.interactive.html']) expect(existsSync(join(runDir, f)), f).toBe(true);
    for (const f of ['sweep-report.html', 'sweep-report.interactive.html']) expect(existsSync(join(sweepDir, f)), f).toBe(true);
    const empty = join(artifacts, 'empty');
    mkdirSync(empty);
    const r = goldstone(['report', empty, '--interactive']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${empty}: DIR: expected a goldstone run directory (with run.json) or sweep directory (with sweep.json), found neither`);
    rmSync(empty, { recursive: true });
  });

  it('the static run report shows every figure as SVG, with no error', async () => {
    await withPage((page) => checkStatic(page, join(runDir, 'report.html'), 'run-static.png'));
  });

  it('the interactive run report draws every figure; hover shows the values, the legend toggles, the wheel zooms', async () => {
    await withPage(async (page) => {
      const problems = await checkInteractive(page, join(runDir, 'report.interactive.html'));
      const id = await hoverPoint(page);
      await page.screenshot({ path: join(artifacts, 'run-interactive.png') });
      await toggleLegend(page, id);
      await zoom(page, id);
      expect(problems).toEqual([]);
    });
  });

  it('the static sweep report shows every figure as SVG, with no error', async () => {
    await withPage((page) => checkStatic(page, join(sweepDir, 'sweep-report.html'), 'sweep-static.png'));
  });

  it('the interactive sweep report draws every figure and shows a tooltip on hover', async () => {
    await withPage(async (page) => {
      const problems = await checkInteractive(page, join(sweepDir, 'sweep-report.interactive.html'));
      await hoverPoint(page);
      await page.screenshot({ path: join(artifacts, 'sweep-interactive.png') });
      expect(problems).toEqual([]);
    });
  });
});
