// The README's reliability table, regenerated between two markers from a results file.
import { readFileSync, writeFileSync } from 'node:fs';

export const START = '<!-- reliability:start -->';
export const END = '<!-- reliability:end -->';

const FAULT_NOTES = {
  pass: 'passes',
  fail: 'FAILS',
};

/** The markdown between the markers (without them). */
export function renderTable(results) {
  const t = results.totals;
  const lines = [];
  lines.push(
    `Measured by \`pnpm reliability${results.quick ? ' --quick' : ''}\` on ${results.measuredAt.slice(0, 10)} at commit \`${results.commit}\`${results.dirty ? ' (with uncommitted changes)' : ''}` +
      ` (Node ${results.node}, ${results.cores} cores; ${Math.round(results.durationMs / 60_000)} min). Every case runs the built CLI in a copy of a project holding a finished run, an interrupted run, a finished sweep and the user's own files, with a ${Math.round(results.timeoutMs / 1000)} s time-out.`,
    '',
    '| bad inputs tried | exit 2 with a clear message | exit 2, unclear message | accepted (where allowed) | other exits | data lost | hangs | crashes | left files behind | plugin code ran |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    `| ${t.cases} | ${t.clear} | ${t.unclear} | ${t.accepted} | ${t.otherExit} | **${t.dataLost}** | **${t.hangs}** | **${t.crashes}** | ${t.leftBehind} | ${t.codeRan} |`,
    '',
    '"Clear": an `error:` line naming the file, flag or field at fault, and no stack trace. "Accepted": exit 0 for the',
    'few inputs with a valid reading (a `.txt` experiment file, `--force` onto a run that holds user files, which must',
    'survive). "Other exits": 0, 1 or 130 where a usage error (2) was due. "Data lost": a file that existed before the',
    'command was changed or removed. "Hangs": no exit within the time-out; "crashes": a signal, a V8 fatal error or an',
    'undocumented exit code. "Left files behind": a failed command created files (a junk run directory). "Plugin code',
    'ran": `analyze` imported a module named in a run directory it was given.',
    '',
    '| group | cases | clear | failing |',
    '| --- | --- | --- | --- |',
  );
  for (const g of results.groups) lines.push(`| ${g.group} | ${g.cases} | ${g.clear} | ${g.failing} |`);
  lines.push('', '| fault test | outcome |', '| --- | --- |');
  for (const f of results.faults) {
    const detail = (f.outcome === 'pass' ? f.checks.map((c) => c.name) : f.failed).join('; ');
    lines.push(`| ${f.title} | ${FAULT_NOTES[f.outcome] ?? f.outcome}: ${detail.replace(/\|/g, '\\|')} |`);
  }
  if (results.faults.length === 0) lines.push('| (not run) | |');
  lines.push('', 'Every case and its outcome: [tooling/scripts/reliability/results.json](tooling/scripts/reliability/results.json).');
  return lines.join('\n');
}

/** Replace the text between the markers of `file`; throws when the markers are missing. */
export function updateReadme(file, results) {
  const text = readFileSync(file, 'utf8');
  const a = text.indexOf(START);
  const b = text.indexOf(END);
  if (a < 0 || b < a) throw new Error(`${file}: no ${START} … ${END} markers to write the table between`);
  const next = `${text.slice(0, a + START.length)}\n${renderTable(results)}\n${text.slice(b)}`;
  if (next !== text) writeFileSync(file, next);
}
