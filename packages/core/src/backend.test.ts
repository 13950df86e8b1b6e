import { createRequire } from 'node:module';
import { describe, it, expect, afterAll } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import {
  initBackend,
  backendInfo,
  BACKEND_CHOICES,
  BackendUnavailableError,
  isBackendChoice,
  type InitBackendOptions,
} from './backend';
import { WASM_FIXES } from './wasm-kernels';

/** What tfjs-node 4.22 throws when its native binary was never downloaded. */
const brokenBinding = (): Error =>
  new Error(
    'The Node.js native addon module (tfjs_binding.node) can not be found at path: /x/lib/napi-v8/tfjs_binding.node. \nPlease run command ...',
  );

/** What Node throws for a package that is not installed. */
function notInstalled(pkg: string): Error {
  const err = new Error(`Cannot find package '${pkg}' imported from /x/backend.js`) as Error & { code: string };
  err.code = 'ERR_MODULE_NOT_FOUND';
  return err;
}

/** An importer that loads the real packages except those given, which fail as specified. */
function importer(fail: Record<string, () => Error>): InitBackendOptions['importer'] {
  return async (specifier) => {
    const f = fail[specifier];
    if (f) throw f();
    return import(specifier);
  };
}

/** The real tfjs-node here: working, installed but broken (no native binary), or not installed. */
async function realTfjsNode(): Promise<'loads' | 'broken' | 'absent'> {
  const pkg: string = '@tensorflow/tfjs-node';
  try {
    createRequire(import.meta.url).resolve(pkg);
  } catch {
    return 'absent';
  }
  return import(pkg).then(
    () => 'loads' as const,
    () => 'broken' as const,
  );
}

function collect(): { lines: string[]; log: (line: string) => void } {
  const lines: string[] = [];
  return { lines, log: (line) => lines.push(line) };
}

afterAll(async () => {
  await tf.setBackend('cpu');
});

describe('backend choices', () => {
  it('lists the four choices and recognises them', () => {
    expect([...BACKEND_CHOICES]).toEqual(['auto', 'tensorflow', 'wasm', 'cpu']);
    expect(isBackendChoice('wasm')).toBe(true);
    expect(isBackendChoice('webgl')).toBe(false);
  });

  it('rejects an unknown choice, naming the valid ones', async () => {
    await expect(initBackend('gpu' as never)).rejects.toThrow(/Unknown backend "gpu".*auto, tensorflow, wasm, cpu/);
  });
});

describe('auto', () => {
  it('skips a present-but-broken tfjs-node with exactly one log line and lands on wasm', async () => {
    const { lines, log } = collect();
    const name = await initBackend('auto', { log, importer: importer({ '@tensorflow/tfjs-node': brokenBinding }) });
    expect(name).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/skipping tensorflow: @tensorflow\/tfjs-node is installed but cannot be used/);
    expect(lines[0]).toMatch(/tfjs_binding\.node/);
    expect(lines[0]).not.toMatch(/\n/);
  });

  it('skips an absent tfjs-node silently', async () => {
    const { lines, log } = collect();
    const name = await initBackend('auto', { log, importer: importer({ '@tensorflow/tfjs-node': () => notInstalled('@tensorflow/tfjs-node') }) });
    expect(name).toBe('wasm');
    expect(lines).toEqual([]);
  });

  it('skips an absent tfjs-node silently under vite too (its stand-in for an uninstalled optional peer)', async () => {
    const { lines, log } = collect();
    const viteStub = (): Error => new Error('Could not resolve "@tensorflow/tfjs-node" imported by "@goldstone/core".');
    const name = await initBackend('auto', { log, importer: importer({ '@tensorflow/tfjs-node': viteStub }) });
    expect(name).toBe('wasm');
    expect(lines).toEqual([]);
  });

  it('treats a missing dependency of tfjs-node as broken, not absent', async () => {
    const { lines, log } = collect();
    await initBackend('auto', { log, importer: importer({ '@tensorflow/tfjs-node': () => notInstalled('@mapbox/node-pre-gyp') }) });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/node-pre-gyp/);
  });

  it('falls back to cpu when wasm is absent too', async () => {
    const { lines, log } = collect();
    const name = await initBackend('auto', {
      log,
      importer: importer({
        '@tensorflow/tfjs-node': brokenBinding,
        '@tensorflow/tfjs-backend-wasm': () => notInstalled('@tensorflow/tfjs-backend-wasm'),
      }),
    });
    expect(name).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    expect(lines).toHaveLength(1);
  });

  it('with the packages installed here: native backend if it loads, else wasm (one line if tfjs-node is broken); repeat calls are idempotent', async () => {
    const native = await realTfjsNode();
    const { lines, log } = collect();
    const first = await initBackend('auto', { log });
    const second = await initBackend('auto', { log });
    const third = await initBackend(undefined, { log });
    expect(second).toBe(first);
    expect(third).toBe(first);
    if (native === 'loads') {
      expect(first).toBe('tensorflow');
      expect(lines).toEqual([]);
    } else if (native === 'broken') {
      expect(first).toBe('wasm');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^backend: skipping tensorflow: @tensorflow\/tfjs-node is installed but cannot be used/);
      expect(backendInfo().skipped).toEqual(lines);
    } else {
      expect(first).toBe('wasm');
      expect(lines).toEqual([]);
      expect(backendInfo().skipped).toEqual([]);
    }
  });
});

describe('explicit choices', () => {
  it('throws a clear error for a broken tfjs-node, saying why and what to do', async () => {
    const err = await initBackend('tensorflow', { importer: importer({ '@tensorflow/tfjs-node': brokenBinding }) }).catch((e) => e);
    expect(err).toBeInstanceOf(BackendUnavailableError);
    expect(err.backend).toBe('tensorflow');
    expect(err.reason).toBe('broken');
    expect(err.message).toMatch(/Backend "tensorflow" is unavailable: @tensorflow\/tfjs-node is installed but cannot be used/);
    expect(err.message).toMatch(/tfjs_binding\.node/);
    expect(err.message).toMatch(/--backend wasm/);
  });

  it('throws for an uninstalled wasm backend, naming the package to install', async () => {
    const err = await initBackend('wasm', {
      importer: importer({ '@tensorflow/tfjs-backend-wasm': () => notInstalled('@tensorflow/tfjs-backend-wasm') }),
    }).catch((e) => e);
    expect(err).toBeInstanceOf(BackendUnavailableError);
    expect(err.reason).toBe('missing');
    expect(err.message).toMatch(/@tensorflow\/tfjs-backend-wasm is not installed/);
    expect(err.message).toMatch(/pnpm add @tensorflow\/tfjs-backend-wasm@4\.22\.0/);
  });

  it('throws for the real tfjs-node when it cannot load here, saying whether it is installed', async () => {
    const native = await realTfjsNode();
    const result = initBackend('tensorflow');
    if (native === 'loads') await expect(result).resolves.toBe('tensorflow');
    else await expect(result).rejects.toMatchObject({ name: 'BackendUnavailableError', reason: native === 'broken' ? 'broken' : 'missing' });
  });

  it('cpu and wasm switch back and forth; wasm carries its kernel fixes, recorded in backendInfo', async () => {
    expect(await initBackend('cpu')).toBe('cpu');
    expect(backendInfo()).toMatchObject({ name: 'cpu', choice: 'cpu', fixes: [], tfjs: tf.version_core });
    expect(await initBackend('wasm')).toBe('wasm');
    const info = backendInfo();
    expect(info).toMatchObject({ name: 'wasm', choice: 'wasm' });
    expect(info.fixes).toEqual([...WASM_FIXES]);
    expect(JSON.parse(JSON.stringify(info))).toEqual(info);
    // the fixes are live: the gradient of gather needs UnsortedSegmentSum, which stock wasm lacks
    const g = tf.tidy(() => tf.grad((t: tf.Tensor) => tf.sum(tf.gather(t, tf.tensor1d([1, 1, 0], 'int32'))))(tf.ones([3, 2])));
    expect(Array.from(g.dataSync())).toEqual([1, 1, 2, 2, 0, 0]);
    g.dispose();
    expect(await initBackend('cpu')).toBe('cpu');
  });

  it('concurrent calls are serialised and settle on the last choice', async () => {
    const results = await Promise.all([initBackend('wasm'), initBackend('cpu'), initBackend('wasm')]);
    expect(results).toEqual(['wasm', 'cpu', 'wasm']);
    expect(tf.getBackend()).toBe('wasm');
  });

  it('repeated calls do not leak tensors', async () => {
    await initBackend('wasm');
    const n = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) {
      await initBackend('wasm');
      await initBackend('cpu');
    }
    await initBackend('wasm');
    expect(tf.memory().numTensors).toBe(n);
  });
});
