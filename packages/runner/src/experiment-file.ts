import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, extname, isAbsolute, resolve } from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { parseExperiment, type Experiment } from './experiment';
import { UsageError } from '@goldstone/plugin-api';

/** Parse a `--set key=value` list: values are read as YAML (numbers, booleans, lists), else strings. */
export function parseAssignments(list: readonly string[] | undefined, flag = '--set'): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const item of list ?? []) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new UsageError(`${flag} ${item}: expected key=value (e.g. train.lr=0.01)`);
    const key = item.slice(0, eq).trim();
    const text = item.slice(eq + 1);
    let value: unknown;
    try {
      value = text === '' ? '' : parseYaml(text);
    } catch {
      value = text;
    }
    out[key] = value;
  }
  return out;
}

/** Read a YAML or JSON file into a plain value, with errors naming the file and line. */
export function readConfigFile(file: string): unknown {
  if (!existsSync(file)) throw new UsageError(`${file}: file not found`, { file });
  if (statSync(file).isDirectory()) throw new UsageError(`${file}: is a directory, expected an experiment file (.yaml, .yml or .json)`, { file });
  const text = readFileSync(file, 'utf8');
  const ext = extname(file).toLowerCase();
  try {
    if (ext === '.json') return JSON.parse(text);
    return parseYaml(text);
  } catch (err) {
    if (err instanceof YAMLParseError) {
      const pos = err.linePos?.[0];
      throw new UsageError(`${file}${pos ? `:${pos.line}:${pos.col}` : ''}: invalid YAML: ${err.message.split('\n')[0]}`, { file });
    }
    throw new UsageError(`${file}: invalid ${ext === '.json' ? 'JSON' : 'YAML'}: ${(err as Error).message}`, { file });
  }
}

/**
 * Load and validate an experiment file. Plugin paths are made absolute (relative to the file), so the
 * resolved config stored in run.json can be re-used from any directory.
 */
export function loadExperimentFile(
  file: string,
  opts: { quick?: boolean; set?: Record<string, unknown> } = {},
): { experiment: Experiment; file: string; dir: string } {
  const raw = readConfigFile(file);
  const experiment = parseExperiment(raw, { file, quick: opts.quick, set: opts.set });
  const dir = dirname(resolve(file));
  experiment.plugins = experiment.plugins.map((p) => (p.startsWith('.') || isAbsolute(p) ? resolve(dir, p) : p));
  return { experiment, file, dir };
}
