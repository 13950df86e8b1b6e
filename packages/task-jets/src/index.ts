import { jets } from './jets';

export { jets, jetsOptions, estimateJets, makeJetSplit, tau21OfInputs, tau21Auc, binaryMetrics, type JetsOptions, type Detector } from './jets';
export { FEATURES, DEFAULT_FEATURES, channelsOf, fractionOf, isPadding, type FeatureName, type Channels } from './features';
export { shower, showerBuffer, type ShowerSettings, type ShowerBuffer } from './shower';
export { projectJet, type JetRecord } from './constituents';
export { generateClasses, MASS_BINS, type RawJets, type SampleSettings } from './generate';
export { nSubjettiness, tau21 } from './nsubjettiness';
export { jetRotation, constituentPermutation, jetInputMask, softParticles, fractionSums, SOFT_FRACTION, SOFT_MAX_STRENGTH } from './symmetries';

/** The plugins this package provides. */
export const plugins = [jets];
