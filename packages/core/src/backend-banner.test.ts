/**
 * tfjs's cpu backend warns "install our node backend" on its first tensor under Node. Its own file:
 * the banner shows once per process, so no other test may have used the cpu backend before.
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { initBackend } from './backend';

describe('the cpu backend under Node', () => {
  const warn = vi.spyOn(console, 'warn');
  afterAll(() => warn.mockRestore());

  it('prints no tfjs-node banner on its first tensor, and other tfjs warnings still print', async () => {
    expect(tf.env().getBool('IS_NODE')).toBe(true);
    expect(await initBackend('cpu')).toBe('cpu');
    const x = tf.tensor1d([1, 2, 3]);
    expect(Array.from(await x.data())).toEqual([1, 2, 3]);
    x.dispose();
    const said = warn.mock.calls.map((c) => c.join(' ')).join('\n');
    expect(said).not.toMatch(/tfjs-node|node backend/);
    // the banner is all that is silenced: tfjs's own warnings are not (a second registration warns)
    tf.registerBackend('cpu', () => null as never, 0);
    expect(warn.mock.calls.map((c) => c.join(' ')).join('\n')).toMatch(/cpu backend was already registered/);
  });
});
