import { promises as fsp } from 'node:fs';
import { pathExists, siblingName, writeAndSync } from './atomic-write';
import { basename, dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { OptimizerStateEntry, Params, ParamSpec, Json } from '@goldstone/plugin-api';

/** Number of values in a tensor of this shape. */
function elementCount(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** The `format` field of a goldstone checkpoint's `model.json`. */
export const CHECKPOINT_FORMAT = 'goldstone-params';

const MODEL_FILE = 'model.json';
const WEIGHTS_FILE = 'weights.bin';
const OPTIMIZER_FILE = 'optimizer.bin';

/** `model.json` of a checkpoint: a tfjs weights manifest plus free-form metadata. */
export interface CheckpointManifest {
  format: typeof CHECKPOINT_FORMAT;
  formatVersion: 1;
  /** Group 0 holds the parameters (`weights.bin`); an optional group 1 the optimiser state (`optimizer.bin`). */
  weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
  meta: Json;
}

export interface LoadedCheckpoint {
  /** New tensors, owned by the caller. */
  params: Params;
  /** The parameter layout in stored order. */
  specs: ParamSpec[];
  meta: Json;
  /** Optimiser state, when it was saved with the parameters. */
  optimizerState?: OptimizerStateEntry[];
}

function float32Bytes(values: Float32Array): Uint8Array {
  return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
}

/**
 * Save parameters (in the order of `specs`) as a tfjs weights manifest: `dir/model.json` and
 * `dir/weights.bin` (plus `dir/optimizer.bin` when `optimizerState` is given). The directory is
 * written complete under a temporary name and then renamed into place, replacing an old one.
 */
export async function saveCheckpoint(
  dir: string,
  params: Params,
  specs: readonly ParamSpec[],
  meta: Json = {},
  options: { optimizerState?: readonly OptimizerStateEntry[] } = {},
): Promise<void> {
  const named = specs.map((s) => {
    const t = params[s.name];
    if (!t) throw new Error(`saveCheckpoint: missing parameter "${s.name}"`);
    if (t.size !== elementCount(s.shape)) throw new Error(`saveCheckpoint: "${s.name}" has ${t.size} values, spec [${s.shape}]`);
    return { name: s.name, tensor: t.shape.length === s.shape.length ? t : tf.reshape(t, s.shape) };
  });
  let encoded: { data: ArrayBuffer; specs: tf.io.WeightsManifestEntry[] };
  try {
    encoded = await tf.io.encodeWeights(named.map((n) => ({ name: n.name, tensor: n.tensor })));
  } finally {
    for (const n of named) if (n.tensor !== params[n.name]) n.tensor.dispose();
  }
  const manifest: CheckpointManifest = {
    format: CHECKPOINT_FORMAT,
    formatVersion: 1,
    weightsManifest: [{ paths: [WEIGHTS_FILE], weights: encoded.specs }],
    meta,
  };
  let optimizerBytes: Uint8Array | undefined;
  if (options.optimizerState) {
    const entries = options.optimizerState;
    const total = entries.reduce((n, e) => n + e.values.length, 0);
    const all = new Float32Array(total);
    let offset = 0;
    for (const e of entries) {
      if (e.values.length !== elementCount(e.shape)) throw new Error(`saveCheckpoint: optimizer state "${e.name}" does not match shape [${e.shape}]`);
      all.set(e.values, offset);
      offset += e.values.length;
    }
    optimizerBytes = float32Bytes(all);
    manifest.weightsManifest.push({
      paths: [OPTIMIZER_FILE],
      weights: entries.map((e) => ({ name: e.name, shape: [...e.shape], dtype: 'float32' as const })),
    });
  }

  await fsp.mkdir(dirname(dir), { recursive: true });
  const tmp = siblingName(dir, 'tmp');
  try {
    await fsp.mkdir(tmp);
    await writeAndSync(join(tmp, WEIGHTS_FILE), new Uint8Array(encoded.data));
    if (optimizerBytes) await writeAndSync(join(tmp, OPTIMIZER_FILE), optimizerBytes);
    await writeAndSync(join(tmp, MODEL_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
    // A directory cannot be renamed over a non-empty one: move the old one aside first.
    // Should the process die between the two renames, loadCheckpoint falls back to the old one.
    let old: string | undefined;
    if (await pathExists(dir)) {
      old = siblingName(dir, 'old');
      await fsp.rename(dir, old);
    }
    try {
      await fsp.rename(tmp, dir);
    } catch (err) {
      if (old) await fsp.rename(old, dir);
      throw err;
    }
    if (old) await fsp.rm(old, { recursive: true, force: true });
  } catch (err) {
    await fsp.rm(tmp, { recursive: true, force: true });
    throw err;
  }
}

/** `dir`, or, when a save died between its two renames, the previous version moved aside. */
async function resolveCheckpointDir(dir: string): Promise<string> {
  if (await pathExists(join(dir, MODEL_FILE))) return dir;
  const prefix = `.${basename(dir)}.old-`;
  let entries: string[] = [];
  try {
    entries = await fsp.readdir(dirname(dir));
  } catch {
    // parent missing: fall through to the error below
  }
  const olds = entries.filter((e) => e.startsWith(prefix)).sort();
  for (const o of olds.reverse()) {
    const candidate = join(dirname(dir), o);
    if (await pathExists(join(candidate, MODEL_FILE))) return candidate;
  }
  throw new Error(`${join(dir, MODEL_FILE)} does not exist: no checkpoint found there`);
}

function toArrayBuffer(buf: Uint8Array): ArrayBuffer {
  return buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer;
}

/** Load a checkpoint written by `saveCheckpoint` (parameters as new tensors, owned by the caller). */
export async function loadCheckpoint(dir: string): Promise<LoadedCheckpoint> {
  const root = await resolveCheckpointDir(dir);
  const file = join(root, MODEL_FILE);
  let manifest: CheckpointManifest;
  try {
    manifest = JSON.parse(await fsp.readFile(file, 'utf8'));
  } catch (err) {
    throw new Error(`${file}: not readable as JSON (${(err as Error).message})`);
  }
  if (manifest?.format !== CHECKPOINT_FORMAT || !Array.isArray(manifest.weightsManifest) || manifest.weightsManifest.length === 0) {
    throw new Error(`${file}: not a goldstone checkpoint (expected format "${CHECKPOINT_FORMAT}" with a weightsManifest)`);
  }
  const readGroup = async (group: CheckpointManifest['weightsManifest'][number]): Promise<ArrayBuffer> => {
    const parts = await Promise.all(
      group.paths.map((p) =>
        fsp.readFile(join(root, p)).catch((err: NodeJS.ErrnoException) => {
          throw new Error(`${join(root, p)}: cannot read (${err.code ?? err.message})`);
        }),
      ),
    );
    const expected = group.weights.reduce((n, w) => n + elementCount(w.shape) * 4, 0);
    const got = parts.reduce((n, p) => n + p.byteLength, 0);
    if (got !== expected) throw new Error(`${join(root, group.paths[0])}: ${got} bytes, the manifest needs ${expected}`);
    return toArrayBuffer(parts.length === 1 ? parts[0] : Buffer.concat(parts));
  };
  for (const group of manifest.weightsManifest) {
    for (const w of group.weights) {
      if (w.dtype !== 'float32') throw new Error(`${file}: weight "${w.name}" has dtype ${w.dtype}; only float32 is supported`);
    }
  }
  const paramGroup = manifest.weightsManifest[0];
  const params = tf.io.decodeWeights(await readGroup(paramGroup), paramGroup.weights) as Params;
  const specs = paramGroup.weights.map((w) => ({ name: w.name, shape: [...w.shape] }));
  const out: LoadedCheckpoint = { params, specs, meta: manifest.meta ?? {} };
  const stateGroup = manifest.weightsManifest[1];
  if (stateGroup) {
    const all = new Float32Array(await readGroup(stateGroup));
    let offset = 0;
    out.optimizerState = stateGroup.weights.map((w) => {
      const n = elementCount(w.shape);
      const values = all.slice(offset, offset + n);
      offset += n;
      return { name: w.name, shape: [...w.shape], values };
    });
  }
  return out;
}
