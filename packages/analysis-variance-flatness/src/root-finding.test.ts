import { describe, expect, it } from 'vitest';
import { findCrossing, profileFlatness } from './root-finding';

describe('findCrossing and profileFlatness', () => {
  it('brackets and finds e·L₀ on both sides of an asymmetric profile', () => {
    const L0 = 0.3;
    // Right: quadratic, crosses where 1 + 4δ² = e; left: quartic, crosses where 1 + 0.5δ⁴ = e.
    const profile = (d: number) => L0 * (d >= 0 ? 1 + 4 * d * d : 1 + 0.5 * d ** 4);
    const r = profileFlatness(profile, Math.E * L0, { initialStep: 0.01, relTol: 1e-10 });
    const right = Math.sqrt((Math.E - 1) / 4);
    const left = -(((Math.E - 1) / 0.5) ** 0.25);
    expect(r.right).toBeCloseTo(right, 8);
    expect(r.left).toBeCloseTo(left, 8);
    expect(r.flatness).toBeCloseTo(right - left, 8);
    expect(r.evaluations).toBeLessThan(60);
  });

  it('finds the first crossing and a bracket that contains it', () => {
    const g = (d: number) => Math.sin(d) - 0.5; // first crossing at π/6
    const c = findCrossing(g, { initialStep: 0.1, relTol: 1e-12 });
    expect(c.found).toBe(true);
    if (!c.found) return;
    expect(c.distance).toBeCloseTo(Math.PI / 6, 10);
    expect(c.bracket[0]).toBeLessThanOrEqual(Math.PI / 6);
    expect(c.bracket[1]).toBeGreaterThanOrEqual(Math.PI / 6);
  });

  it('reports the directions where the threshold is never reached, and a non-finite loss', () => {
    const L0 = 1;
    const bounded = (d: number) => (d >= 0 ? L0 * (1 + 0.5 * Math.tanh(d) ** 2) : L0 * (1 + d * d));
    const r = profileFlatness(bounded, Math.E * L0, { initialStep: 0.1, maxDistance: 50 });
    expect(r.right).toBeNull();
    expect(r.flatness).toBeNull();
    expect(r.rightReason).toMatch(/still below the target/);
    expect(r.left).toBeCloseTo(-Math.sqrt(Math.E - 1), 3);
    const nan = findCrossing((d) => (d > 1 ? NaN : -1), { initialStep: 0.5 });
    expect(nan.found).toBe(false);
    if (!nan.found) expect(nan.reason).toMatch(/non-finite/);
    const above = findCrossing(() => 1, { initialStep: 0.5 });
    expect(above.found).toBe(false);
  });
});
