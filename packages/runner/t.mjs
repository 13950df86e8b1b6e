import { parse, parseDocument, Parser, Composer, LineCounter } from 'yaml';
const n = Number(process.argv[2]); const mode = process.argv[3];
const deep = '['.repeat(n) + ']'.repeat(n);
const txt = mode === 'seq' ? '- '.repeat(n) + 'x\n' : mode === 'block' ? 'a:\n' + Array.from({length: n}, (_, i) => ' '.repeat(i + 2) + 'b:').join('\n') : '{"task": ' + deep + '}';
let t0 = Date.now();
try { const v = parse(txt, {uniqueKeys: true}); console.log('yaml ok'); try { structuredClone(v); console.log('clone ok') } catch (e) { console.log('clone', e.message) } } catch (e) { console.log('yaml', e.constructor.name, e.message.slice(0, 100)); }
console.log(Date.now() - t0);
