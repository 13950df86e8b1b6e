import { readFileSync, statSync } from 'node:fs';
import { dirname, extname, isAbsolute, resolve } from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { checkTree, formatPath, MAX_DEPTH, parseExperiment, type Experiment, type ParseExperimentOptions, type PathKey } from './experiment';
import { messageOf, UsageError } from '@goldstone/plugin-api';

export { parseAssignments } from './experiment';

/** Line and column (1-based) of an offset in a text. */
function lineCol(text: string, offset: number): { line: number; col: number } {
  let line = 1;
  let start = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    start = i + 1;
  }
  return { line, col: offset - start + 1 };
}

/**
 * Scan valid JSON text for what `JSON.parse` hides: a key given twice in one object (it keeps the
 * last value silently) and nesting deeper than `MAX_DEPTH`. Iterative; errors name file:line:col and
 * the field.
 */
function checkJsonText(text: string, file: string): void {
  // One frame per open object or list: its keys so far (objects) or its next index (lists).
  const stack: { keys?: Set<string>; index: number; key?: PathKey }[] = [];
  const path = (): PathKey[] => stack.slice(1).map((f) => f.key!);
  let pendingKey: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      let j = i + 1;
      while (text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      const top = stack[stack.length - 1];
      let k = j + 1;
      while (k < text.length && /\s/.test(text[k])) k++;
      if (top?.keys && text[k] === ':') {
        const key = JSON.parse(text.slice(i, j + 1)) as string;
        if (top.keys.has(key)) {
          const pos = lineCol(text, i);
          const field = formatPath([...path(), key]);
          throw new UsageError(`${file}:${pos.line}:${pos.col}: ${field}: duplicate key "${key}" (JSON keeps only the last value)`, { file, field });
        }
        top.keys.add(key);
        pendingKey = key;
      }
      i = j;
    } else if (c === '{' || c === '[') {
      const top = stack[stack.length - 1];
      const key = top ? (top.keys ? pendingKey : top.index) : undefined;
      stack.push({ keys: c === '{' ? new Set() : undefined, index: 0, key });
      if (stack.length > MAX_DEPTH) {
        const pos = lineCol(text, i);
        const field = formatPath(path().slice(0, 6));
        throw new UsageError(`${file}:${pos.line}:${pos.col}: ${field}…: nested deeper than ${MAX_DEPTH} levels`, { file, field });
      }
    } else if (c === '}' || c === ']') {
      stack.pop();
    } else if (c === ',') {
      const top = stack[stack.length - 1];
      if (top && !top.keys) top.index++;
    }
  }
}

/** `JSON.parse` with its error placed at file:line:col. */
function parseJson(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    const m = /at position (\d+)/.exec(messageOf(err));
    const pos = m ? lineCol(text, Number(m[1])) : undefined;
    const what = messageOf(err).replace(/\s*\(line \d+ column \d+\)/, '').replace(/ in JSON at position \d+/, '');
    throw new UsageError(`${file}${pos ? `:${pos.line}:${pos.col}` : ''}: invalid JSON: ${what}`, { file });
  }
}

/** `yaml`'s parse with its errors (a duplicate key named) placed at file:line:col. */
function parseYamlText(text: string, file: string): unknown {
  try {
    return parseYaml(text, { uniqueKeys: true });
  } catch (err) {
    if (err instanceof YAMLParseError) {
      const pos = err.linePos?.[0];
      const place = `${file}${pos ? `:${pos.line}:${pos.col}` : ''}`;
      const first = err.message.split('\n')[0];
      if (/Maximum call stack/i.test(first)) throw new UsageError(`${place}: nested deeper than ${MAX_DEPTH} levels`, { file });
      if (err.code === 'DUPLICATE_KEY') {
        const key = /^[^:\n]*/.exec(text.slice(err.pos[0]))?.[0].trim() ?? '';
        throw new UsageError(`${place}: duplicate key${key ? ` "${key}"` : ''}: a key may appear once in each mapping`, { file });
      }
      throw new UsageError(`${place}: invalid YAML: ${first}`, { file });
    }
    if (err instanceof RangeError) throw new UsageError(`${file}: nested deeper than ${MAX_DEPTH} levels`, { file });
    throw new UsageError(`${file}: invalid YAML: ${messageOf(err)}`, { file });
  }
}

/**
 * Read a YAML or JSON file into a plain value, with errors naming the file and line. Duplicate keys,
 * nesting deeper than 64 levels and the field names `__proto__`, `constructor` and `prototype` are
 * errors (a parser would keep one value silently, overflow the stack or drop the field).
 */
export function readConfigFile(file: string): unknown {
  let text: string;
  try {
    if (statSync(file).isDirectory()) throw new UsageError(`${file}: is a directory, expected an experiment file (.yaml, .yml or .json)`, { file });
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if (err instanceof UsageError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new UsageError(`${file}: file not found`, { file });
    throw new UsageError(`${file}: cannot read the file (${code ?? messageOf(err)})`, { file });
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const ext = extname(file).toLowerCase();
  let value: unknown;
  if (ext === '.json') {
    value = parseJson(text, file);
    checkJsonText(text, file);
  } else {
    value = parseYamlText(text, file);
  }
  checkTree(value, { file });
  return value;
}

/**
 * Read an experiment file once; the function it returns validates it with given options (`set`,
 * `quick`, …) as often as asked, e.g. once per sweep point. Plugin paths are made absolute
 * (relative to the file), so the resolved config stored in run.json can be re-used from any directory.
 */
export function experimentFileReader(file: string): (opts?: Omit<ParseExperimentOptions, 'file'>) => Experiment {
  const raw = readConfigFile(file);
  const dir = dirname(resolve(file));
  let quickChecked = false;
  return (opts = {}) => {
    // the quick: overrides are the same on every call: checking them on the first is enough
    const experiment = parseExperiment(raw, { ...opts, file, checkQuick: !quickChecked && opts.checkQuick !== false });
    quickChecked = true;
    experiment.plugins = experiment.plugins.map((p) => (p.startsWith('.') || isAbsolute(p) ? resolve(dir, p) : p));
    return experiment;
  };
}

/** Load and validate an experiment file (see `experimentFileReader`). */
export function loadExperimentFile(
  file: string,
  opts: Omit<ParseExperimentOptions, 'file'> = {},
): { experiment: Experiment; file: string; dir: string } {
  return { experiment: experimentFileReader(file)(opts), file, dir: dirname(resolve(file)) };
}
