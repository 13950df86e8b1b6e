// Node module-resolution hooks that let plain Node load tfjs-core's ESM build.
//
// @tensorflow/tfjs-core 4.22 ships `dist/**/*.js` as ES modules with extensionless relative
// imports (`./gradients`), which bundlers and vitest resolve but Node's ESM loader does not. Core
// imports `@tensorflow/tfjs-core/dist/register_all_gradients` (tfjs-core registers no gradients
// on its own), so without these hooks `node --import tsx` cannot load it. The hooks add `.js`
// (or `/index.js`) to such specifiers, and nothing else.
const DIST = '/@tensorflow/tfjs-core/dist/';

function candidates(specifier) {
  return specifier.endsWith('.js') ? [] : [`${specifier}.js`, `${specifier}/index.js`];
}

export async function resolve(specifier, context, next) {
  const deepBare = specifier.startsWith('@tensorflow/tfjs-core/dist/');
  const relativeInDist = specifier.startsWith('.') && context.parentURL?.includes(DIST);
  if (deepBare || relativeInDist) {
    for (const candidate of candidates(specifier)) {
      try {
        return await next(candidate, context);
      } catch {
        // try the next candidate, then the specifier as written
      }
    }
  }
  return next(specifier, context);
}
