import { UsageError, type Rng } from '@goldstone/plugin-api';
import { projectJet } from './constituents';
import { shower, showerBuffer, type ShowerSettings } from './shower';

/** The physics of a sample: the two classes' showers and the window their jet masses must fall in. */
export interface SampleSettings {
  momentum: number;
  tCut: number;
  signalMass: number;
  signalWidth: number;
  signalRootRate: number;
  rate: number;
  massWindow: [number, number];
  constituents: number;
}

/**
 * Jets of one class before detector effects, `n` of them, each with room for N constituents:
 * `z`, `eta`, `phi` at `[i·N, i·N + count[i])`, the rest zero.
 */
export interface RawJets {
  n: number;
  N: number;
  count: Int32Array;
  /** Final-state particles of each whole shower (before keeping the N hardest). */
  total: Int32Array;
  mass: Float64Array;
  z: Float64Array;
  eta: Float64Array;
  phi: Float64Array;
}

/** Bins of the mass window over which the background's jet-mass histogram is matched to the signal's. */
export const MASS_BINS = 40;

function rawJets(n: number, N: number): RawJets {
  return {
    n,
    N,
    count: new Int32Array(n),
    total: new Int32Array(n),
    mass: new Float64Array(n),
    z: new Float64Array(n * N),
    eta: new Float64Array(n * N),
    phi: new Float64Array(n * N),
  };
}

function binOf(mass: number, [lo, hi]: [number, number]): number {
  if (!(mass >= lo && mass <= hi)) return -1;
  return Math.min(MASS_BINS - 1, Math.floor(((mass - lo) / (hi - lo)) * MASS_BINS));
}

/** At most this many showers per wanted jet before the mass window is declared (nearly) empty. */
const MAX_TRIES_PER_JET = 200;

/**
 * `nSignal` signal and `nBackground` background jets whose jet masses (of the kept constituents)
 * lie in the mass window. Signal: root mass signalMass + signalWidth·N(0, 1), root rate
 * `signalRootRate`, then `rate`. Background: `rate` throughout; its root mass is proposed near
 * the jet mass of a random accepted signal jet (± 2 bins), and a background jet is accepted only
 * while its mass bin (of `MASS_BINS` in the window) still has room: the background's jet-mass
 * histogram is made equal, bin by bin, to the signal's (cycled when the classes differ in size),
 * so that jet mass alone cannot tell the classes apart. Throws a UsageError naming `massWindow`
 * when the window keeps too few jets of a class.
 */
export function generateClasses(s: SampleSettings, nSignal: number, nBackground: number, rng: Rng): { signal: RawJets; background: RawJets } {
  const N = s.constituents;
  const buffer = showerBuffer();
  let order = new Int32Array(256);
  const signal = rawJets(nSignal, N);
  const background = rawJets(nBackground, N);
  const minMass = Math.sqrt(s.tCut);
  const keep = (jets: RawJets, i: number): number => {
    if (order.length < buffer.count) order = new Int32Array(2 * buffer.count);
    const rec = projectJet(buffer, N, jets.z, jets.eta, jets.phi, i * N, order);
    jets.count[i] = rec.count;
    jets.total[i] = rec.total;
    jets.mass[i] = rec.mass;
    return rec.mass;
  };
  const sigRng = rng.split('signal');
  const sigShower: ShowerSettings = { rootMass: s.signalMass, rootRate: s.signalRootRate, rate: s.rate, tCut: s.tCut, momentum: s.momentum };
  let tries = 0;
  for (let i = 0; i < nSignal; ) {
    if (++tries > MAX_TRIES_PER_JET * (nSignal + 10)) throw emptyWindow(s, 'signal', i, tries);
    const m = s.signalMass + s.signalWidth * sigRng.normal();
    if (m <= minMass) continue;
    sigShower.rootMass = m;
    shower(sigShower, sigRng, buffer);
    const mass = keep(signal, i);
    if (binOf(mass, s.massWindow) >= 0) i++;
    else clearJet(signal, i);
  }
  if (nBackground === 0) return { signal, background };
  if (nSignal === 0) throw emptyWindow(s, 'signal', 0, 0);
  const room = new Int32Array(MASS_BINS);
  for (let j = 0; j < nBackground; j++) room[binOf(signal.mass[j % nSignal], s.massWindow)]++;
  const width = (s.massWindow[1] - s.massWindow[0]) / MASS_BINS;
  const bkgRng = rng.split('background');
  const bkgShower: ShowerSettings = { rootMass: 0, rootRate: s.rate, rate: s.rate, tCut: s.tCut, momentum: s.momentum };
  tries = 0;
  for (let i = 0; i < nBackground; ) {
    if (++tries > MAX_TRIES_PER_JET * (nBackground + 10)) throw emptyWindow(s, 'background', i, tries);
    const m = signal.mass[bkgRng.int(nSignal)] + (4 * bkgRng.uniform() - 2) * width;
    if (m <= minMass) continue;
    bkgShower.rootMass = m;
    shower(bkgShower, bkgRng, buffer);
    const b = binOf(keep(background, i), s.massWindow);
    if (b >= 0 && room[b] > 0) {
      room[b]--;
      i++;
    } else clearJet(background, i);
  }
  return { signal, background };
}

function clearJet(jets: RawJets, i: number): void {
  const N = jets.N;
  jets.z.fill(0, i * N, (i + 1) * N);
  jets.eta.fill(0, i * N, (i + 1) * N);
  jets.phi.fill(0, i * N, (i + 1) * N);
}

function emptyWindow(s: SampleSettings, cls: string, got: number, tries: number): UsageError {
  const [lo, hi] = s.massWindow;
  return new UsageError(
    `mass window [${lo}, ${hi}] keeps too few ${cls} jets (${got} after ${tries} showers at momentum ${s.momentum}); expected a window around the signal mass ${s.signalMass}, e.g. [70, 90]`,
    { field: 'massWindow' },
  );
}
