// The corpus of bad inputs. Every case runs in its own copy of the fixture project (see fixture.mjs:
// a finished run `done-run/`, the same run marked interrupted `int-run/`, a finished sweep
// `done-sweep/`, the user's own files) and states what a careful CLI must do: exit 2 (or one of
// `expectExit`), with an `error:` line that names one of `mentions`, leaving every file it found as it
// was, except under `mayChange` (and even there the `sentinels` must survive).
import { TINY, SWEEP_EXP } from './fixture.mjs';

const clone = (v) => structuredClone(v);

/** `exp` with `value` at the dotted `path` (`undefined` deletes it); numeric segments index arrays. */
export function withPath(exp, path, value) {
  const out = clone(exp);
  const keys = path.split('.').map((k) => (/^\d+$/.test(k) ? Number(k) : k));
  let o = out;
  for (const k of keys.slice(0, -1)) {
    if (o[k] === undefined || o[k] === null || typeof o[k] !== 'object') o[k] = typeof k === 'number' ? [] : {};
    o = o[k];
  }
  const last = keys[keys.length - 1];
  if (value === undefined) delete o[last];
  else o[last] = value;
  return out;
}

/** JSON text of `exp` with an own key `key` (e.g. `__proto__`, which an object literal cannot hold) in the object at `path`. */
export function withOwnKey(exp, path, key, value) {
  const out = clone(exp);
  let o = out;
  for (const k of path ? path.split('.') : []) o = o[k];
  Object.defineProperty(o, key, { value, enumerable: true, configurable: true, writable: true });
  return JSON.stringify(out, null, 2);
}

/** `user.path` as the CLI names fields: `analyses[0].options.k`. */
export function fieldName(path) {
  return path.replace(/\.(\d+)(?=\.|$)/g, '[$1]');
}

const SENTINELS = ['notes.txt', 'data/keep.csv', 'exp.json', 'exp.yaml', 'sweep-exp.json'];
const RUN_FILES = ['run.json', 'metrics.jsonl', 'checkpoints', 'analyses', 'report.html'];

export function buildCases() {
  const cases = [];
  const ids = new Set();
  const add = (c) => {
    if (ids.has(c.id)) throw new Error(`duplicate case id ${c.id}`);
    ids.add(c.id);
    cases.push({ expectExit: [2], mentions: [], files: {}, mayChange: [], sentinels: [], ...c });
  };
  /** A bad experiment file `bad.json` run into a fresh `--out new-run`. */
  const exp = (id, group, title, body, mentions, extra = {}) => {
    const name = extra.fileName ?? 'bad.json';
    add({
      id,
      group,
      title,
      files: { [name]: typeof body === 'string' ? body : JSON.stringify(body, null, 2), ...(extra.files ?? {}) },
      args: ['run', name, '--out', 'new-run', ...(extra.args ?? [])],
      mentions,
      ...Object.fromEntries(Object.entries(extra).filter(([k]) => !['fileName', 'files', 'args'].includes(k))),
    });
  };

  // ---------------------------------------------------------------- wrong types and values
  const wrong = [
    ['name', [123, 'has space', '', '../../escape']],
    ['description', [5]],
    ['protocol', [[]]],
    ['seed', [-1, 1.5, 'abc', null]],
    ['backend', ['gpu', 1, null]],
    ['plugins', ['x', [1], [''], {}]],
    ['task', ['clt', null, {}, { name: 1 }, { name: 'clt', options: [] }, { name: 'clt', options: 'x' }]],
    ['model', ['mlp', null, {}, { name: 1 }, { name: 'mlp', options: [] }]],
    ['train', ['fast', [], null]],
    ['train.optimizer', ['rmsprop', 1]],
    ['train.lr', [0, -1, 'fast', null, [], {}, true]],
    ['train.momentum', [1, -0.1, 'x']],
    ['train.nesterov', ['yes']],
    ['train.beta1', [1]],
    ['train.beta2', [2]],
    ['train.eps', [0]],
    ['train.weightDecay', [-1, 'x']],
    ['train.schedule', ['cosine', { kind: 'linear' }, { kind: 'step' }, { kind: 'step', every: 0, gamma: 0.5 }, { kind: 'cosine', minFactor: 2 }, { kind: 'cosine', warmupEpochs: -1 }]],
    ['train.epochs', [0, -1, 1.5, '10', null]],
    ['train.batchSize', [0, -32, 2.5, '64']],
    ['train.groups', ['x', [], { dense0: { lr: -1 } }, { dense0: 5 }]],
    ['train.evalEvery', [0]],
    ['train.logEvery', [0, 'x']],
    ['train.checkpointEvery', [0, 1.5]],
    ['train.symmetryPenalty', ['x', { form: 'x', lambda: 0.1 }, { form: 'sampled' }, { form: 'sampled', lambda: -1 }]],
    ['analyses', [{}, 'hessian', [null], [{}], [{ name: '' }], [{ name: 1 }], [{ name: 'hessian', options: 5 }], [{ name: 'hessian', options: [] }]]],
  ];
  for (const [path, values] of wrong) {
    values.forEach((v, i) => {
      const mention = fieldName(path);
      exp(`type-${path}-${i}`, 'wrong type or value', `${path}: ${JSON.stringify(v)}`, withPath(TINY, path, v), [mention], {
        quick: ['train.lr-2', 'task-4'].includes(`${path}-${i}`),
      });
    });
  }
  // ---------------------------------------------------------------- jet generator settings (task-jets)
  const JETS = { ...TINY, task: { name: 'jets', options: { trainSize: 64, testSize: 32, oodSize: 16 } }, analyses: [] };
  const badJets = [
    ['signalMass', -80],
    ['tCut', 0],
    ['tCut', 10_000], // above the root mass squared
    ['massWindow', [90, 70]],
    ['massWindow', [200, 300]], // empties a class: no jet has that mass
    ['constituents', 0],
    ['momentum', -400],
    ['epsilon', -0.1],
    ['trainSize', 0],
    ['features', ['deta']],
  ];
  badJets.forEach(([field, value], i) => {
    exp(`jets-${field}-${i}`, 'jet generator settings', `task.options.${field}: ${JSON.stringify(value)}`, withPath(JETS, `task.options.${field}`, value), [`task.options.${field}`], {
      quick: i === 2 || i === 4,
    });
  });
  // the correlation summary's options: a claim without a sign, a path that is not one
  const CORR = { ...TINY, analyses: [{ name: 'hessian', options: { maxExamples: 64 } }, { name: 'correlations', options: {} }] };
  exp('correlations-claim-sign', 'wrong type or value', 'analyses[1].options.claims[0].expect: "up"', withPath(CORR, 'analyses.1.options.claims', [{ claim: 'c', x: 'a', y: 'b', expect: 'up' }]), ['claims[0].expect']);
  exp('correlations-bad-path', 'wrong type or value', 'analyses[1].options.complexity.x: "no path"', withPath(CORR, 'analyses.1.options.complexity', { x: 'no path' }), ['complexity.x']);

  exp('id-escape', 'wrong type or value', 'analyses[0].id: "../escape" (a path out of analyses/)', withPath(TINY, 'analyses.0.id', '../escape'), ['analyses[0].id']);
  exp('id-slash', 'wrong type or value', 'analyses[0].id: "a/b"', withPath(TINY, 'analyses.0.id', 'a/b'), ['analyses[0].id']);
  add({
    id: 'name-huge',
    group: 'wrong type or value',
    title: 'name: a 5 MB string, no --out (the default run directory is named after it)',
    files: { 'bad.json': JSON.stringify(withPath(TINY, 'name', 'x'.repeat(5_000_000))) },
    args: ['run', 'bad.json'],
    mentions: ['name'],
  });

  // ---------------------------------------------------------------- unknown fields
  for (const [path, key] of [
    ['', 'trian'],
    ['', 'sweeps'],
    ['train', 'epoch'],
    ['train', 'learningRate'],
    ['task', 'option'],
    ['model', 'opts'],
    ['analyses.0', 'option'],
    ['train.schedule', 'gama'],
  ]) {
    const body = path === 'train.schedule' ? withPath(TINY, 'train.schedule', { kind: 'constant', gama: 1 }) : withPath(TINY, path ? `${path}.${key}` : key, 1);
    exp(`unknown-field-${path || 'top'}-${key}`, 'unknown field', `${path ? `${path}.` : ''}${key}`, body, [key], { quick: key === 'trian' });
  }

  // ---------------------------------------------------------------- unknown plugins, prototype names included
  const hostileNames = ['cltt', 'constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf', '__defineGetter__', 'prototype'];
  for (const n of hostileNames) {
    exp(`plugin-task-${n}`, 'unknown plugin', `task.name: "${n}"`, withPath(TINY, 'task.name', n), ['task.name'], { quick: n === 'constructor' });
    exp(`plugin-model-${n}`, 'unknown plugin', `model.name: "${n}"`, withPath(TINY, 'model.name', n), ['model.name'], { quick: n === '__proto__' });
    exp(`plugin-analysis-${n}`, 'unknown plugin', `analyses[0].name: "${n}"`, withPath(TINY, 'analyses.0.name', n), ['analyses[0].name']);
  }
  exp('plugin-typo-mpl', 'unknown plugin', 'model.name: "mpl" (a typo)', withPath(TINY, 'model.name', 'mpl'), ['model.name']);
  exp('plugin-path-missing', 'unknown plugin', 'plugins: ["./missing-plugin"]', withPath(TINY, 'plugins', ['./missing-plugin']), ['plugins[0]']);
  exp('plugin-path-is-file', 'unknown plugin', 'plugins: ["./notes.txt"] (not a module)', withPath(TINY, 'plugins', ['./notes.txt']), ['plugins[0]', 'notes.txt']);
  exp('plugin-package-missing', 'unknown plugin', 'plugins: ["no-such-package-xyz"]', withPath(TINY, 'plugins', ['no-such-package-xyz']), ['plugins[0]', 'no-such-package-xyz']);

  // ---------------------------------------------------------------- plugin options
  const taskOpts = [
    ['sites', ['x', 0, -8, 1.5]],
    ['block', [0, 16]],
    ['distribution', ['cauchy']],
    ['gammaShape', [0]],
    ['trainSize', [0, 'x']],
    ['testSize', [0]],
    ['oodSize', [0]],
    ['ood', [['cauchy'], 'x']],
    ['noise', [-1]],
    ['spins', [1]],
  ];
  for (const [k, values] of taskOpts) {
    values.forEach((v, i) => exp(`task-opt-${k}-${i}`, 'plugin option', `task.options.${k}: ${JSON.stringify(v)}`, withPath(TINY, `task.options.${k}`, v), [`task.options.${k}`, `"${k}"`]));
  }
  const modelOpts = [
    ['hidden', ['wide', [0], [-1], [1.5], ['x'], 8]],
    ['activation', ['swish', 1]],
    ['bias', ['yes']],
    ['init', ['x']],
    ['initScale', [0]],
    ['block', [0]],
    ['tied', ['x']],
    ['sign', ['x']],
    ['scale', ['x']],
    ['depth', [3]],
  ];
  for (const [k, values] of modelOpts) {
    values.forEach((v, i) => exp(`model-opt-${k}-${i}`, 'plugin option', `model.options.${k}: ${JSON.stringify(v)}`, withPath(TINY, `model.options.${k}`, v), [`model.options.${k}`, `"${k}"`]));
  }
  const analysisOpts = [
    ['hessian', 'method', 'x'],
    ['hessian', 'topK', 0],
    ['hessian', 'bottomK', -1],
    ['hessian', 'lanczosSteps', 1],
    ['hessian', 'tol', 0],
    ['hessian', 'traceProbes', 1],
    ['hessian', 'gridPoints', 2],
    ['hessian', 'maxExamples', 0],
    ['hessian', 'operator', 'x'],
    ['hessian', 'params', 'x'],
    ['hessian', 'directions', 'x'],
    ['hessian', 'k', 3],
    ['robustness', 'sections', ['x']],
    ['robustness', 'domain', 'x'],
    ['robustness', 'epsilons', [-1]],
    ['variance-flatness', 'components', 2],
    ['compressibility', 'sparsities', [2]],
    ['compressibility', 'bits', [1]],
    ['compressibility', 'ranks', 'x'],
    ['distillation', 'students', 'x'],
    ['distillation', 'students', [[0]]],
    ['distillation', 'sampleFractions', [0]],
  ];
  analysisOpts.forEach(([name, k, v], i) =>
    exp(`analysis-opt-${name}-${k}-${i}`, 'plugin option', `${name} ${k}: ${JSON.stringify(v)}`, withPath(TINY, 'analyses', [{ name, options: { [k]: v } }]), [`analyses[0].options.${k}`, `"${k}"`]),
  );

  // ---------------------------------------------------------------- checks that need the task or model (issue 11 §2), three ways each
  const lateChecks = [
    ['groups-unknown', 'train.groups: an unknown group "nope"', withPath(TINY, 'train.groups', { nope: { lr: 0.1 } }), ['train.groups']],
    ['symmetry-unknown', 'train.symmetryPenalty.symmetry: "nope"', withPath(TINY, 'train.symmetryPenalty', { form: 'sampled', lambda: 0.1, symmetry: 'nope' }), ['symmetryPenalty']],
    ['tied-without-block', 'model.options.tied without block', withPath(TINY, 'model.options.tied', true), ['model.options']],
    ['task-block-not-dividing', 'task.options.block: 3 does not divide 8 sites', withPath(TINY, 'task.options.block', 3), ['task.options']],
    ['model-block-not-dividing', 'model.options.block: 3 with 8 sites, tied', withPath(withPath(TINY, 'model.options.block', 3), 'model.options.tied', true), ['model.options']],
    ['hidden-huge', 'model.options.hidden: [100000, 100000]', withPath(TINY, 'model.options.hidden', [100000, 100000]), ['model.options.hidden']],
    ['trainsize-huge', 'task.options.trainSize: 1e9', withPath(TINY, 'task.options.trainSize', 1e9), ['task.options.trainSize']],
    ['hessian-params-unknown', 'hessian params: ["nope"]', withPath(TINY, 'analyses.0.options.params', ['nope']), ['analyses[0].options.params']],
    ['hessian-split-unknown', 'hessian split: "nope"', withPath(TINY, 'analyses.0.options.split', 'nope'), ['analyses[0].options.split']],
    ['hessian-trace-unknown', 'hessian traceEstimator: "nope" (lanczos)', withPath(TINY, 'analyses.0.options', { method: 'lanczos', traceEstimator: 'nope', maxExamples: 64 }), ['analyses[0].options.traceEstimator']],
    ['robustness-split-unknown', 'robustness split: "nope"', withPath(TINY, 'analyses', [{ name: 'robustness', options: { split: 'nope' } }]), ['analyses[0].options.split']],
    ['vf-window-too-long', 'variance-flatness windowEpochs 100 > train.epochs 3', withPath(TINY, 'analyses', [{ name: 'variance-flatness', options: { windowEpochs: 100 } }]), ['windowEpochs']],
    ['vf-params-unknown', 'variance-flatness params: ["nope"]', withPath(TINY, 'analyses', [{ name: 'variance-flatness', options: { params: ['nope'], windowEpochs: 2 } }]), ['analyses[0].options.params']],
    ['distillation-split-unknown', 'distillation poolSplit: "nope"', withPath(TINY, 'analyses', [{ name: 'distillation', options: { poolSplit: 'nope' } }]), ['analyses[0].options.poolSplit']],
    ['compress-split-unknown', 'compressibility split: "nope"', withPath(TINY, 'analyses', [{ name: 'compressibility', options: { split: 'nope' } }]), ['analyses[0].options.split']],
  ];
  const quickLate = new Set(['groups-unknown', 'hidden-huge']);
  for (const [key, title, body, mentions] of lateChecks) {
    exp(`late-${key}-fresh`, 'checked before writing', `${title}, into a fresh --out (no junk may be left)`, body, mentions, { quick: quickLate.has(key) });
    add({
      id: `late-${key}-force`,
      group: 'checked before writing',
      title: `${title}, --force onto the finished run (it must survive)`,
      files: { 'bad.json': JSON.stringify(body, null, 2) },
      args: ['run', 'bad.json', '--out', 'done-run', '--force'],
      mentions,
      quick: key === 'hidden-huge',
    });
    add({
      id: `late-${key}-existing`,
      group: 'checked before writing',
      title: `${title}, onto the finished run without --force`,
      files: { 'bad.json': JSON.stringify(body, null, 2) },
      args: ['run', 'bad.json', '--out', 'done-run'],
      mentions: [...mentions, 'done-run'],
    });
  }

  // ---------------------------------------------------------------- experiment files themselves
  const fileCase = (id, title, name, text, mentions, extra = {}) => exp(id, 'experiment file', title, text, mentions, { fileName: name, ...extra });
  add({ id: 'file-missing', group: 'experiment file', title: 'a missing experiment file', args: ['run', 'nope.yaml', '--out', 'new-run'], mentions: ['nope.yaml'], quick: true });
  add({ id: 'file-directory', group: 'experiment file', title: 'a directory as the experiment file', args: ['run', 'data', '--out', 'new-run'], mentions: ['data'] });
  fileCase('file-empty-json', 'an empty .json file', 'empty.json', '', ['empty.json']);
  fileCase('file-empty-yaml', 'an empty .yaml file', 'empty.yaml', '', ['empty.yaml']);
  fileCase('file-null', 'null', 'null.json', 'null', ['null.json']);
  fileCase('file-array', 'a JSON array', 'array.json', '[1, 2]', ['array.json']);
  fileCase('file-number', 'a JSON number', 'number.json', '42', ['number.json']);
  fileCase('file-string-yaml', 'a YAML scalar', 'scalar.yaml', 'just some words\n', ['scalar.yaml']);
  fileCase('file-trailing-comma', 'JSON with a trailing comma', 'comma.json', JSON.stringify(TINY).replace(/}$/, ',}'), ['comma.json']);
  fileCase('file-bad-yaml', 'YAML with bad indentation', 'bad.yaml', 'task:\n  name: clt\n model: [\n', ['bad.yaml']);
  fileCase('file-yaml-tabs', 'YAML indented with tabs', 'tabs.yaml', 'task:\n\tname: clt\nmodel:\n\tname: mlp\n', ['tabs.yaml']);
  fileCase('file-txt-extension', 'an experiment file named .txt', 'exp.txt', JSON.stringify(TINY), ['exp.txt'], { expectExit: [0, 2] });
  fileCase('file-binary', 'binary junk', 'junk.json', String.fromCharCode(...Array.from({ length: 512 }, (_, i) => (i * 37) % 256)), ['junk.json']);
  fileCase('file-bom', 'JSON with a UTF-8 byte-order mark', 'bom.json', `\ufeff${JSON.stringify(TINY)}`, ['bom.json'], { expectExit: [0, 2] });
  fileCase('file-dup-json-key', 'duplicate JSON keys (train.lr twice, the last wins silently)', 'dup.json', JSON.stringify(TINY).replace('"lr":0.01', '"lr":0.01,"lr":0.5'), ['dup.json'], { quick: true });
  fileCase('file-dup-json-top', 'duplicate top-level JSON keys (task twice)', 'dup-top.json', JSON.stringify(TINY).replace('"task":', '"task":{"name":"mnist"},"task":'), ['dup-top.json']);
  fileCase('file-dup-yaml-key', 'duplicate YAML keys', 'dup.yaml', 'task: { name: clt }\nmodel: { name: mlp }\nmodel: { name: gnn }\n', ['dup.yaml']);
  const deep = (n, leaf = '1') => `${'['.repeat(n)}${leaf}${']'.repeat(n)}`;
  const deepObj = (n) => `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`;
  fileCase('file-deep-description', 'description nested 100,000 arrays deep', 'deep.json', JSON.stringify(TINY).replace(/}$/, `,"description":${deep(100_000)}}`), ['deep.json'], { quick: true });
  fileCase('file-deep-options', 'task.options nested 100,000 objects deep', 'deep-opt.json', JSON.stringify(TINY).replace('"sites":8', `"sites":8,"x":${deepObj(100_000)}`), ['deep-opt.json']);
  fileCase('file-deep-quick', 'quick: nested 100,000 objects deep, with --quick', 'deep-quick.json', JSON.stringify(TINY).replace(/}$/, `,"quick":${deepObj(100_000)}}`), ['deep-quick.json'], { args: ['--quick'] });
  fileCase('file-deep-sweep', 'sweep: nested 100,000 objects deep (sweep)', 'deep-sweep.json', JSON.stringify(TINY).replace(/}$/, `,"sweep":${deepObj(100_000)}}`), ['deep-sweep.json']);
  fileCase('file-deep-yaml', 'YAML nested 10,000 flow sequences deep', 'deep.yaml', `task: { name: clt }\nmodel: { name: mlp }\ndescription: ${deep(10_000)}\n`, ['deep.yaml']);
  const laughs = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
  for (let i = 1; i < 9; i++) laughs.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9).fill(`*${String.fromCharCode(96 + i)}`).join(',')}]`);
  fileCase('file-yaml-alias-bomb', 'a YAML alias bomb (billion laughs)', 'laughs.yaml', `${laughs.join('\n')}\ntask: { name: clt }\nmodel: { name: mlp }\n`, ['laughs.yaml'], { quick: true });
  fileCase('file-yaml-unknown-tag', 'a YAML !!js/function tag', 'tag.yaml', 'task: { name: !!js/function "function(){}" }\nmodel: { name: mlp }\n', ['tag.yaml']);

  // ---------------------------------------------------------------- prototype keys in files
  const protoFile = (id, title, path, key, value, mentions, extra = {}) => exp(id, 'prototype keys', title, withOwnKey(TINY, path, key, value), mentions, extra);
  protoFile('proto-top', '"__proto__" at the top of the file', '', '__proto__', { polluted: 1 }, ['__proto__'], { quick: true });
  protoFile('proto-train', '"__proto__" in train', 'train', '__proto__', { lr: 0.5 }, ['__proto__']);
  protoFile('proto-task-options', '"__proto__" in task.options', 'task.options', '__proto__', { sites: 4 }, ['__proto__']);
  protoFile('proto-model-options', '"__proto__" in model.options', 'model.options', '__proto__', { hidden: [4] }, ['__proto__']);
  protoFile('proto-analysis-options', '"__proto__" in analyses[0].options', 'analyses.0.options', '__proto__', { topK: 1 }, ['__proto__']);
  protoFile('constructor-train', '"constructor" in train', 'train', 'constructor', { prototype: { x: 1 } }, ['constructor']);
  protoFile('constructor-options', '"constructor" in task.options', 'task.options', 'constructor', 1, ['constructor']);
  exp('proto-quick', 'prototype keys', '"__proto__" inside quick:, with --quick', withOwnKey(withPath(TINY, 'quick', { train: { epochs: 1 } }), 'quick', '__proto__', { train: { lr: 9 } }), ['__proto__'], { args: ['--quick'], quick: true });
  exp('proto-quick-nested', 'prototype keys', '"__proto__" inside quick.train, with --quick', withOwnKey(withPath(TINY, 'quick', { train: { epochs: 1 } }), 'quick.train', '__proto__', { lr: 9 }), ['__proto__'], { args: ['--quick'] });
  exp('quick-not-object', 'wrong type or value', 'quick: "x", with --quick', withPath(TINY, 'quick', 'x'), ['quick'], { args: ['--quick'] });
  exp('quick-wrong-path', 'wrong type or value', 'quick: { train: { lr: "fast" } } is blamed on quick.train.lr', withPath(TINY, 'quick', { train: { lr: 'fast' } }), ['quick.train.lr'], { args: ['--quick'], quick: true });

  // ---------------------------------------------------------------- the command line: --set, --seed, flags
  const cmd = (id, title, args, mentions, extra = {}) => add({ id, group: 'command line', title, args, mentions, ...extra });
  const run = (...a) => ['run', 'exp.json', '--out', 'new-run', ...a];
  const sets = [
    ['set-no-eq', 'train.lr', ['--set']],
    ['set-empty-key', '=1', ['--set']],
    ['set-double-dot', 'train..lr=1', ['--set', 'train..lr']],
    ['set-bad-yaml', 'train.lr=[1', ['--set', 'train.lr']],
    ['set-wrong-type', 'train.lr=fast', ['--set', 'train.lr']],
    ['set-unknown', 'nope.field=1', ['--set', 'nope']],
    ['set-sparse-index', 'analyses[99].name=hessian', ['--set', 'analyses']],
    ['set-proto', '__proto__.polluted=1', ['__proto__']],
    ['set-constructor', 'constructor.prototype.polluted=1', ['constructor']],
    ['set-nested-proto', 'train.__proto__.lr=1', ['__proto__']],
    ['set-options-proto', 'task.options.__proto__.sites=4', ['__proto__']],
    ['set-huge-hidden', 'model.options.hidden=[100000,100000]', ['model.options.hidden']],
    ['set-huge-trainsize', 'task.options.trainSize=1e9', ['task.options.trainSize']],
    ['set-index-on-object', 'train[0]=1', ['--set', 'train']],
    ['set-plugin-proto', 'model.name=__proto__', ['model.name']],
  ];
  for (const [id, assignment, mentions] of sets) cmd(id, `--set ${assignment}`, run('--set', assignment), mentions, { quick: id === 'set-proto' });
  cmd('set-quick-proto', '--quick --set quick.__proto__.x=1', run('--quick', '--set', 'quick.__proto__.x=1'), ['__proto__']);
  for (const [i, seed] of ['abc', '-1', '1.5', '', '1e400', '9007199254740993'].entries()) {
    cmd(`seed-${i}`, `--seed ${JSON.stringify(seed)}`, run('--seed', seed), ['--seed'], { quick: seed === 'abc', expectExit: seed === '9007199254740993' ? [0, 2] : [2] });
  }
  cmd('backend-gpu', '--backend gpu', run('--backend', 'gpu'), ['--backend', 'gpu']);
  cmd('unknown-option', '--frobnicate', run('--frobnicate'), ['--frobnicate']);
  cmd('unknown-command', 'an unknown command', ['nonsense'], ['nonsense']);
  cmd('run-no-arg', 'run without an experiment', ['run'], ['experiment']);
  cmd('resume-and-force', '--resume --force together', ['run', 'exp.json', '--out', 'int-run', '--resume', '--force'], ['--resume', '--force']);
  cmd('train-task-proto', 'train --task constructor', ['train', '--task', 'constructor', '--model', 'mlp', '--out', 'new-run'], ['constructor']);
  cmd('train-model-proto', 'train --model __proto__', ['train', '--task', 'clt', '--model', '__proto__', '--out', 'new-run'], ['__proto__']);
  cmd('train-task-tostring', 'train --task toString', ['train', '--task', 'toString', '--model', 'mlp', '--out', 'new-run'], ['toString']);
  cmd('train-seed-abc', 'train --seed abc', ['train', '--task', 'clt', '--model', 'mlp', '--seed', 'abc', '--out', 'new-run'], ['--seed']);
  cmd('train-set-proto', 'train --set __proto__.polluted=1', ['train', '--task', 'clt', '--model', 'mlp', '--set', '__proto__.polluted=1', '--out', 'new-run'], ['__proto__']);
  cmd('train-huge', 'train --set model.options.hidden=[100000,100000]', ['train', '--task', 'clt', '--model', 'mlp', '--set', 'model.options.hidden=[100000,100000]', '--out', 'new-run'], ['model.options.hidden']);
  cmd('train-huge-force', 'train, impossible size, --force onto the finished run', ['train', '--task', 'clt', '--model', 'mlp', '--set', 'task.options.trainSize=1e9', '--out', 'done-run', '--force'], ['task.options.trainSize']);
  cmd('list-constructor', 'list constructor', ['list', 'constructor'], ['constructor']);
  cmd('list-proto', 'list __proto__', ['list', '__proto__'], ['__proto__']);
  cmd('list-tostring', 'list toString', ['list', 'toString'], ['toString']);
  cmd('list-plugin-missing', 'list --plugin ./nope', ['list', '--plugin', './nope'], ['nope']);
  cmd('report-missing', 'report a missing directory', ['report', 'missing-run'], ['missing-run']);
  cmd('report-file', 'report a file', ['report', 'notes.txt'], ['notes.txt']);
  cmd('report-sweep', 'report a sweep directory (not a run)', ['report', 'done-sweep'], ['done-sweep']);
  cmd('report-project', 'report the project folder (not a run)', ['report', '.'], ['.']);

  // ---------------------------------------------------------------- --out and --force
  const outCase = (id, title, args, mentions, extra = {}) => add({ id, group: '--out and --force', title, args, mentions, ...extra });
  outCase('out-empty', 'run --out ""', ['run', 'exp.json', '--out', ''], ['--out'], { quick: true });
  outCase('out-existing-file', 'run --out onto a file', ['run', 'exp.json', '--out', 'notes.txt'], ['notes.txt']);
  outCase('out-under-file', 'run --out under a file', ['run', 'exp.json', '--out', 'notes.txt/run'], ['notes.txt']);
  outCase('out-readonly', 'run --out in a read-only directory', ['run', 'exp.json', '--out', 'ro/run'], ['ro'], { readonly: 'ro' });
  outCase('out-eperm', 'run --out where mkdir is not permitted (/sys)', ['run', 'exp.json', '--out', '/sys/goldstone-reliability-run'], ['/sys/goldstone-reliability-run']);
  outCase('out-too-long', 'run --out with a 300-character name', ['run', 'exp.json', '--out', 'x'.repeat(300)], ['--out']);
  outCase('out-dev-null', 'run --out /dev/null', ['run', 'exp.json', '--out', '/dev/null'], ['/dev/null']);
  outCase('out-project', 'run --out . (the project folder)', ['run', 'exp.json', '--out', '.'], ['.']);
  outCase('out-project-force', 'run --out . --force (the project folder)', ['run', 'exp.json', '--out', '.', '--force'], ['.'], { quick: true });
  outCase('out-sweep-force', 'run --out onto a sweep directory, --force', ['run', 'exp.json', '--out', 'done-sweep', '--force'], ['done-sweep']);
  outCase('out-checkpoints-force', 'run --out done-run/checkpoints --force', ['run', 'exp.json', '--out', 'done-run/checkpoints', '--force'], ['checkpoints']);
  outCase('out-existing-run', 'run onto the finished run without --force', ['run', 'exp.json', '--out', 'done-run'], ['done-run']);
  outCase('force-project-with-run', 'a run written into the project by mistake (--out ""), then --out . --force: only its own files may go', ['run', 'exp.json', '--out', '.', '--force'], ['.'], {
    expectExit: [0, 2],
    strayRunInProject: true,
    mayChange: RUN_FILES,
    sentinels: SENTINELS,
    quick: true,
  });
  outCase('force-project-abs', 'the same with --out "$PWD" --force', ['run', 'exp.json', '--out', '{cwd}', '--force'], ['{cwd}'], {
    expectExit: [0, 2],
    strayRunInProject: true,
    mayChange: RUN_FILES,
    sentinels: SENTINELS,
  });
  outCase('force-run-with-user-file', '--force onto a finished run holding a user file: the user file must survive', ['run', 'exp.json', '--out', 'done-run', '--force'], ['done-run'], {
    expectExit: [0, 2],
    files: { 'done-run/my-notes.md': 'results I wrote by hand\n', 'done-run/plots/fig1.svg': '<svg/>\n' },
    mayChange: ['done-run/'],
    sentinels: ['done-run/my-notes.md', 'done-run/plots/fig1.svg'],
    quick: true,
  });
  outCase('force-fake-run', '--force onto a folder with a run.json goldstone did not write', ['run', 'exp.json', '--out', 'thesis', '--force'], ['thesis'], {
    files: { 'thesis/run.json': '{"status":"completed"}\n', 'thesis/thesis.tex': '\\documentclass{article}\n' },
    sentinels: ['thesis/thesis.tex'],
  });
  outCase('train-out-empty', 'train --out ""', ['train', '--task', 'clt', '--model', 'mlp', '--set', 'task.options.trainSize=128', '--set', 'train.epochs=1', '--out', ''], ['--out']);
  outCase('train-out-file', 'train --out onto a file', ['train', '--task', 'clt', '--model', 'mlp', '--out', 'notes.txt'], ['notes.txt']);
  outCase('train-force-project', 'train --out . --force with a stray run in the project', ['train', '--task', 'clt', '--model', 'mlp', '--set', 'task.options.trainSize=128', '--set', 'train.epochs=1', '--out', '.', '--force'], ['.'], {
    expectExit: [0, 2],
    strayRunInProject: true,
    mayChange: RUN_FILES,
    sentinels: SENTINELS,
  });

  // ---------------------------------------------------------------- --resume
  const resume = (id, title, args, mentions, extra = {}) => add({ id, group: '--resume', title, args: ['run', extra.file ?? 'exp.json', '--out', extra.out ?? 'int-run', '--resume', ...args], mentions, ...extra });
  resume('resume-changed-model', 'a changed model (hidden [32])', ['--set', 'model.options.hidden=[32]'], ['model.options.hidden', 'dense0'], { quick: true });
  resume('resume-changed-model-name', 'another model plugin (block-mlp)', ['--set', 'model.name=block-mlp', '--set', 'model.options={}'], ['model']);
  resume('resume-changed-lr', 'a changed train.lr', ['--set', 'train.lr=0.5'], ['train.lr']);
  resume('resume-changed-optimizer', 'a changed train.optimizer (sgd)', ['--set', 'train.optimizer=sgd'], ['train.optimizer']);
  resume('resume-changed-seed', 'a changed --seed', ['--seed', '9'], ['seed']);
  resume('resume-changed-task', 'a changed task (16 sites)', ['--set', 'task.options.sites=16'], ['task.options.sites', 'dense0']);
  resume('resume-fewer-epochs', 'train.epochs below the checkpoint', ['--set', 'train.epochs=1'], ['train.epochs']);
  resume('resume-missing-dir', 'a missing run directory', [], ['missing-run'], { out: 'missing-run', quick: true });
  resume('resume-empty-dir', 'an empty directory', [], ['empty'], { out: 'empty', setupDirs: ['empty'] });
  resume('resume-sweep-dir', 'a sweep directory', [], ['done-sweep'], { out: 'done-sweep' });
  resume('resume-project', 'the project folder', [], ['.'], { out: '.' });
  resume('resume-completed-changed', 'a completed run with a changed model', ['--set', 'model.options.hidden=[32]'], ['model.options.hidden', 'dense0'], { out: 'done-run' });
  resume('resume-bad-experiment', 'a bad experiment (train.lr: "fast")', [], ['train.lr'], { file: 'bad.json', files: { 'bad.json': JSON.stringify(withPath(TINY, 'train.lr', 'fast')) } });
  resume('resume-garbage-run-json', 'run.json that is not JSON', [], ['run.json'], { files: { 'int-run/run.json': '{"status": "interr' } });
  resume('resume-missing-checkpoint', 'last.json naming a missing checkpoint', [], ['last.json'], { files: { 'int-run/checkpoints/last.json': '{"tag":"epoch-9"}\n' } });
  resume('resume-truncated-weights', 'a truncated weights.bin', [], ['weights.bin'], { truncate: { 'int-run/checkpoints/last/weights.bin': 100 } });

  // ---------------------------------------------------------------- analyze
  const analyze = (id, title, args, mentions, extra = {}) => add({ id, group: 'analyze', title, args: ['analyze', extra.dir ?? 'done-run', ...args], mentions, ...extra });
  for (const n of ['nope', 'constructor', '__proto__', 'toString', 'hasOwnProperty']) analyze(`analyze-name-${n}`, `--analysis ${n}`, ['--analysis', n], ['--analysis', n], { quick: n === '__proto__' });
  const aset = [
    ['proto', '__proto__.polluted=1', ['__proto__']],
    ['named-proto', 'hessian.__proto__.polluted=1', ['__proto__']],
    ['constructor', 'constructor.prototype.polluted=1', ['constructor']],
    ['nested-proto', 'a.__proto__.b=1', ['__proto__']],
    ['method', 'method=bogus', ['method']],
    ['params', 'params=[nope]', ['params']],
    ['split', 'split=nope', ['split']],
    ['topk', 'topK=0', ['topK']],
    ['unknown', 'nope=1', ['nope']],
    ['no-eq', 'method', ['--set']],
  ];
  for (const [id, a, mentions] of aset) analyze(`analyze-set-${id}`, `--analysis hessian --set ${a}`, ['--analysis', 'hessian', '--set', a], mentions, { quick: id === 'proto' });
  analyze('analyze-backend', '--backend gpu', ['--analysis', 'hessian', '--backend', 'gpu'], ['--backend']);
  analyze('analyze-plugin-missing', '--plugin ./nope', ['--analysis', 'hessian', '--plugin', './nope'], ['nope']);
  analyze('analyze-missing-dir', 'a missing run directory', ['--analysis', 'hessian'], ['missing-run'], { dir: 'missing-run' });
  analyze('analyze-project', 'the project folder', ['--analysis', 'hessian'], ['run.json'], { dir: '.' });
  analyze('analyze-sweep', 'a sweep directory', ['--analysis', 'hessian'], ['done-sweep'], { dir: 'done-sweep' });
  analyze('analyze-file', 'a file', ['--analysis', 'hessian'], ['notes.txt'], { dir: 'notes.txt' });
  analyze('analyze-truncated', 'a run with a truncated weights.bin', ['--analysis', 'hessian'], ['weights.bin'], { truncate: { 'done-run/checkpoints/last/weights.bin': 100 } });
  analyze('analyze-garbage', 'a run whose run.json is not JSON', ['--analysis', 'hessian'], ['run.json'], { files: { 'done-run/run.json': '{"config": ' } });
  analyze('analyze-no-config', 'a run.json without config', ['--analysis', 'hessian'], ['run.json', 'config'], { files: { 'done-run/run.json': '{"status":"completed"}\n' } });
  analyze('analyze-vf-after', 'variance-flatness after training (it needs the trajectory)', ['--analysis', 'variance-flatness'], ['variance-flatness']);
  analyze('analyze-untrusted', 'a run whose run.json lists a plugin module (someone else\'s code)', ['--analysis', 'hessian'], ['plugin', '--trust-plugins'], {
    dir: 'hostile-run',
    hostileRun: true,
    quick: true,
  });

  // ---------------------------------------------------------------- sweeps
  const sweepFile = (id, title, sweep, mentions, extra = {}) => {
    const body = typeof sweep === 'string' ? sweep : JSON.stringify({ ...SWEEP_EXP, sweep }, null, 2);
    add({
      id,
      group: 'sweep',
      title,
      files: { 'bad-sweep.json': body, ...(extra.files ?? {}) },
      args: ['sweep', 'bad-sweep.json', '--out', extra.out ?? 'new-sweep', '--executor', 'in-process', '--no-report', ...(extra.args ?? [])],
      mentions,
      ...Object.fromEntries(Object.entries(extra).filter(([k]) => !['files', 'args', 'out'].includes(k))),
    });
  };
  const sweepText = (build) => {
    const s = { grid: {} };
    build(s);
    return JSON.stringify({ ...SWEEP_EXP, sweep: s }, null, 2);
  };
  const ownKey = (obj, key, value) => Object.defineProperty(obj, key, { value, enumerable: true, configurable: true, writable: true });
  sweepFile('sweep-key-proto', 'grid key __proto__.polluted', { grid: { '__proto__.polluted': [1, 2] } }, ['__proto__'], { quick: true });
  sweepFile('sweep-key-constructor', 'grid key constructor.prototype.polluted', { grid: { 'constructor.prototype.polluted': [1, 2] } }, ['constructor']);
  sweepFile('sweep-key-nested-proto', 'grid key train.__proto__.lr', { grid: { 'train.__proto__.lr': [0.1, 0.2] } }, ['__proto__']);
  sweepFile('sweep-key-own-proto', 'grid with an own "__proto__" key', sweepText((s) => ownKey(s.grid, '__proto__', [1, 2])), ['__proto__']);
  sweepFile('sweep-zip-proto', 'zip key __proto__.x', { zip: { '__proto__.x': [1, 2] } }, ['__proto__']);
  sweepFile('sweep-summaryby-proto', 'summaryBy: ["__proto__"]', { grid: { 'train.lr': [0.01, 0.02] }, summaryBy: ['__proto__'] }, ['summaryBy']);
  sweepFile('sweep-set-proto', 'sweep --set __proto__.polluted=1', { grid: { 'train.lr': [0.01, 0.02] } }, ['__proto__'], { args: ['--set', '__proto__.polluted=1'] });
  sweepFile('sweep-none', 'an experiment without a sweep: block', JSON.stringify(TINY), ['sweep']);
  sweepFile('sweep-not-object', 'sweep: "grid"', 'grid', ['sweep']);
  sweepFile('sweep-array', 'sweep: []', [], ['sweep']);
  sweepFile('sweep-empty', 'sweep: {}', {}, ['sweep']);
  sweepFile('sweep-unknown-key', 'sweep.grids (unknown)', { grids: { 'train.lr': [0.1] } }, ['grids']);
  sweepFile('sweep-scalar-axis', 'grid train.lr: 0.1 (not a list)', { grid: { 'train.lr': 0.1 } }, ['sweep.grid.train.lr']);
  sweepFile('sweep-empty-axis', 'grid train.lr: []', { grid: { 'train.lr': [] } }, ['sweep.grid.train.lr']);
  sweepFile('sweep-bad-point', 'grid train.lr: [0.01, -1] (one bad point)', { grid: { 'train.lr': [0.01, -1] } }, ['train.lr'], { quick: true });
  sweepFile('sweep-bad-type-point', 'grid train.epochs: ["x"]', { grid: { 'train.epochs': ['x'] } }, ['train.epochs']);
  sweepFile('sweep-unknown-path', 'grid train.nope: [1, 2]', { grid: { 'train.nope': [1, 2] } }, ['nope']);
  sweepFile('sweep-bad-path', 'grid "train..lr"', { grid: { 'train..lr': [1, 2] } }, ['train..lr']);
  sweepFile('sweep-index-out', 'grid analyses[5].options.k', { grid: { 'analyses[5].options.k': [1, 2] } }, ['analyses']);
  sweepFile('sweep-huge-point', 'a point with hidden [100000, 100000]', { grid: { 'model.options.hidden': [[8], [100000, 100000]] } }, ['model.options.hidden']);
  sweepFile('sweep-late-point', 'a point with an unknown train.groups name', { grid: { 'train.groups': [{}, { nope: { lr: 0.1 } }] } }, ['train.groups']);
  sweepFile('sweep-zip-unequal', 'zip lists of unequal lengths', { zip: { 'train.lr': [0.1, 0.2], 'train.batchSize': [16] } }, ['sweep.zip']);
  sweepFile('sweep-zip-grid-same', 'a path in both grid and zip', { grid: { 'train.lr': [0.1] }, zip: { 'train.lr': [0.2] } }, ['train.lr']);
  sweepFile('sweep-seeds-repeat', 'seeds: [1, 1]', { seeds: [1, 1] }, ['sweep.seeds']);
  sweepFile('sweep-seeds-negative', 'seeds: [-1]', { seeds: [-1] }, ['sweep.seeds']);
  sweepFile('sweep-seeds-empty', 'seeds: []', { seeds: [] }, ['sweep.seeds']);
  sweepFile('sweep-num-zero', 'logspace num: 0', { grid: { 'train.lr': { logspace: { from: -3, to: -1, num: 0 } } } }, ['train.lr']);
  sweepFile('sweep-num-fraction', 'linspace num: 1.5', { grid: { 'train.lr': { linspace: { from: 0.1, to: 0.2, num: 1.5 } } } }, ['train.lr']);
  sweepFile('sweep-round-string', 'round: "yes"', { grid: { 'train.batchSize': { linspace: { from: 16, to: 32, num: 2 }, round: 'yes' } } }, ['train.batchSize']);
  sweepFile('sweep-summaryby-unknown', 'summaryBy: ["train.nope"]', { grid: { 'train.lr': [0.01, 0.02] }, summaryBy: ['train.nope'] }, ['summaryBy']);
  sweepFile('sweep-out-empty', 'sweep --out ""', { grid: { 'train.lr': [0.01, 0.02] } }, ['--out'], { out: '' });
  sweepFile('sweep-out-file', 'sweep --out onto a file', { grid: { 'train.lr': [0.01, 0.02] } }, ['notes.txt'], { out: 'notes.txt' });
  sweepFile('sweep-out-under-file', 'sweep --out under a file', { grid: { 'train.lr': [0.01, 0.02] } }, ['notes.txt'], { out: 'notes.txt/sweep' });
  sweepFile('sweep-out-run', 'sweep --out onto a run directory', { grid: { 'train.lr': [0.01, 0.02] } }, ['done-run'], { out: 'done-run' });
  sweepFile('sweep-out-readonly', 'sweep --out in a read-only directory', { grid: { 'train.lr': [0.01, 0.02] } }, ['ro'], { out: 'ro/sweep', readonly: 'ro' });
  sweepFile('sweep-out-project', 'sweep --out . (the project folder)', { grid: { 'train.lr': [0.01, 0.02] } }, ['.'], { out: '.' });
  const flag = (id, title, args, mentions, extra = {}) => add({ id, group: 'sweep', title, args: ['sweep', 'sweep-exp.json', '--out', 'new-sweep', '--no-report', ...args], mentions, ...extra });
  for (const w of ['0', 'abc', '1.5', '-1']) flag(`sweep-workers-${w}`, `--workers ${w}`, ['--workers', w], ['--workers']);
  for (const e of ['nope', 'constructor', '__proto__']) flag(`sweep-executor-${e}`, `--executor ${e}`, ['--executor', e], ['--executor', e]);
  // a different sweep into the finished sweep directory (issue 11 §6)
  add({ id: 'sweep-different-into-existing', group: 'sweep', title: 'a different grid run into the finished sweep directory', files: { 'other-sweep.json': JSON.stringify({ ...SWEEP_EXP, sweep: { grid: { 'train.lr': [0.05, 0.1] } } }, null, 2) }, args: ['sweep', 'other-sweep.json', '--out', 'done-sweep', '--executor', 'in-process', '--no-report'], mentions: ['done-sweep'], quick: true });
  add({ id: 'sweep-changed-base-into-existing', group: 'sweep', title: 'the same grid over another base experiment (epochs 3) into the finished sweep directory', files: { 'other-sweep.json': JSON.stringify({ ...SWEEP_EXP, train: { ...SWEEP_EXP.train, epochs: 3 } }, null, 2) }, args: ['sweep', 'other-sweep.json', '--out', 'done-sweep', '--executor', 'in-process', '--no-report'], mentions: ['done-sweep'] });
  add({ id: 'sweep-different-dry-run', group: 'sweep', title: 'a different grid --dry-run against the finished sweep directory', files: { 'other-sweep.json': JSON.stringify({ ...SWEEP_EXP, sweep: { grid: { 'train.lr': [0.05, 0.1] } } }, null, 2) }, args: ['sweep', 'other-sweep.json', '--out', 'done-sweep', '--dry-run'], mentions: ['done-sweep'], expectExit: [0, 2] });
  add({ id: 'sweep-set-into-existing', group: 'sweep', title: 'the finished sweep again with --set train.epochs=3', args: ['sweep', 'sweep-exp.json', '--out', 'done-sweep', '--executor', 'in-process', '--no-report', '--set', 'train.epochs=3'], mentions: ['done-sweep'] });
  // huge sweeps (issue 11 §5)
  const big = (num) => ({ logspace: { from: 1e-4, to: 0.1, num } });
  sweepFile('sweep-1e9-dry', '10^9 points (one axis), --dry-run', { grid: { 'train.lr': big(1e9) } }, ['sweep'], { args: ['--dry-run'], heavy: true, quick: true });
  sweepFile('sweep-1e9-product', '10^9 points (three axes of 1000), --dry-run', { grid: { 'train.lr': big(1000), 'train.weightDecay': { linspace: { from: 0, to: 0.1, num: 1000 } }, 'task.options.noise': { linspace: { from: 0, to: 0.1, num: 1000 } } } }, ['sweep'], { args: ['--dry-run'], heavy: true });
  sweepFile('sweep-1e9-run', '10^9 points, run', { grid: { 'train.lr': big(1e9) } }, ['sweep'], { heavy: true });
  sweepFile('sweep-1e6-dry', '10^6 points, --dry-run', { grid: { 'train.lr': big(1000), 'train.weightDecay': { linspace: { from: 0, to: 0.1, num: 1000 } } } }, ['sweep'], { args: ['--dry-run'], heavy: true });
  sweepFile('sweep-1e6-run', '10^6 points, run (workers 1)', { grid: { 'train.lr': big(1000), 'train.weightDecay': { linspace: { from: 0, to: 0.1, num: 1000 } } } }, ['sweep'], { heavy: true });
  sweepFile('sweep-1e5-dry', '10^5 points, --dry-run (must be linear, or refused)', { grid: { 'train.lr': big(100), 'train.weightDecay': { linspace: { from: 0, to: 0.1, num: 1000 } } } }, ['sweep'], { args: ['--dry-run'], expectExit: [0, 2], heavy: true });

  return cases;
}

/** `n` seeded mutations of the tiny experiment: a wrong-typed value, a deleted required field, or an unknown or prototype key. */
export function fuzzCases(n, seed = 11) {
  let s = seed >>> 0;
  const rand = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const pick = (list) => list[Math.floor(rand() * list.length)];
  const places = [];
  const walk = (v, path) => {
    if (path.length) places.push({ path, value: v });
    if (v && typeof v === 'object') for (const [k, c] of Object.entries(v)) walk(c, [...path, Array.isArray(v) ? Number(k) : k]);
  };
  walk(TINY, []);
  const containers = [[], ...places.filter((p) => p.value && typeof p.value === 'object' && !Array.isArray(p.value)).map((p) => p.path)];
  const required = [['task'], ['model'], ['task', 'name'], ['model', 'name'], ['analyses', 0, 'name']];
  const kind = (v) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);
  const pool = [null, true, 'x', -1, 0.5, [], {}, [1, 'a'], { a: 1 }];
  const keys = ['zzz', '__proto__', 'constructor', 'prototype', 'toString', 'valueOf'];
  const format = (path) => path.reduce((out, k) => (typeof k === 'number' ? `${out}[${k}]` : out ? `${out}.${k}` : k), '');
  const out = [];
  for (let i = 0; i < n; i++) {
    const body = structuredClone(TINY);
    const mentions = [];
    const done = [];
    const count = 1 + Math.floor(rand() * 2);
    for (let m = 0; m < count; m++) {
      const r = rand();
      const get = (path) => path.reduce((o, k) => o[k], body);
      if (r < 0.55) {
        const place = pick(places);
        let parent;
        try {
          parent = get(place.path.slice(0, -1));
        } catch {
          continue;
        }
        if (!parent || typeof parent !== 'object') continue;
        const was = parent[place.path.at(-1)];
        const value = pick(pool.filter((v) => kind(v) !== kind(was)));
        parent[place.path.at(-1)] = value;
        mentions.push(format(place.path));
        done.push(`${format(place.path)} = ${JSON.stringify(value)}`);
      } else if (r < 0.7) {
        const path = pick(required);
        try {
          delete get(path.slice(0, -1))[path.at(-1)];
        } catch {
          continue;
        }
        mentions.push(format(path));
        done.push(`delete ${format(path)}`);
      } else {
        const path = pick(containers);
        let target;
        try {
          target = get(path);
        } catch {
          continue;
        }
        if (!target || typeof target !== 'object' || Array.isArray(target)) continue;
        const key = pick(keys);
        Object.defineProperty(target, key, { value: pick([1, 'x', { polluted: true }]), enumerable: true, configurable: true, writable: true });
        mentions.push(key);
        done.push(`${format([...path, key])} added`);
      }
    }
    if (done.length === 0) {
      i--;
      continue;
    }
    out.push({
      id: `fuzz-${String(i + 1).padStart(3, '0')}`,
      group: 'fuzz (seeded mutations)',
      title: `${done.join('; ')}, --force onto the finished run`,
      files: { 'fuzz.json': JSON.stringify(body, null, 2) },
      args: ['run', 'fuzz.json', '--out', 'done-run', '--force'],
      mentions,
      expectExit: [2],
      mayChange: [],
      sentinels: [],
    });
  }
  return out;
}
