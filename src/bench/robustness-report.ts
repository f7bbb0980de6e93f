/** Text output of the robustness benchmark: the Markdown report and the CSV. */
import { markdownTable } from './report.js';
import type { RobustnessCell, RobustnessResult } from './robustness.js';

// ------------------------------------------------------------------------------------ text output

export const pct = (x: number, d = 1) => (Number.isFinite(x) ? (100 * x).toFixed(d) : '–');
const f3 = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : '–');
export const signedPct = (x: number) => (Number.isFinite(x) ? `${x >= 0 ? '+' : ''}${(100 * x).toFixed(0)}%` : '–');

export interface RobustnessContext {
  model: string;
  tta: string;
  data: string;
}

/** The report as Markdown: headline, per-family summary, then accuracy / macro-F1 / rCE per corruption × severity. */
export function robustnessMarkdown(r: RobustnessResult, ctx: RobustnessContext): string {
  const sev = r.severities;
  const byKey = new Map(r.cells.map((c) => [`${c.corruption}:${c.severity}`, c]));
  const perSeverity = (pick: (c: RobustnessCell) => string) =>
    r.corruptions.map((c) => [
      c.name,
      c.family ?? '',
      ...sev.map((s) => {
        const x = byKey.get(`${c.name}:${s}`);
        return x ? pick(x) : '–';
      }),
    ]);
  const lines: string[] = [];
  lines.push(
    `Model **${ctx.model}** (TTA ${ctx.tta}) on ${ctx.data}, n = ${r.n}, seed ${r.seed}. ` +
      `Clean: accuracy **${pct(r.clean.accuracy)}%**, macro-F1 **${f3(r.clean.macroF1)}**. ` +
      `Mean over all ${r.corruptions.length} corruptions × severities ${sev.join(',')}: accuracy **${pct(r.overall.accuracy)}%**, ` +
      `macro-F1 **${f3(r.overall.macroF1)}**, rCE **${signedPct(r.overall.rce)}**. Always guessing the majority class scores ${pct(r.majorityRate)}%.`,
  );
  lines.push('');
  lines.push(`${r.definitions.rce}; ${r.definitions.aggregation}.`);
  lines.push('');
  lines.push('**Per family** (means over the family’s corruptions and severities)');
  lines.push('');
  lines.push(
    markdownTable(
      ['family', 'corruptions', 'accuracy %', 'macro-F1', 'rCE', ...sev.map((s) => `acc % s${s}`)],
      r.families.map((f) => [
        f.name,
        r.corruptions
          .filter((c) => c.family === f.name)
          .map((c) => c.name)
          .join(', '),
        pct(f.accuracy),
        f3(f.macroF1),
        signedPct(f.rce),
        ...f.accuracyBySeverity.map((a) => pct(a)),
      ]),
      2,
    ),
  );
  lines.push('');
  lines.push(`**Accuracy %** per corruption and severity (clean ${pct(r.clean.accuracy)}%)`);
  lines.push('');
  lines.push(
    markdownTable(
      ['corruption', 'family', ...sev.map((s) => `s${s}`), 'mean', 'mean rCE'],
      perSeverity((x) => pct(x.accuracy)).map((row, i) => [
        ...row,
        pct(r.corruptions[i].accuracy),
        signedPct(r.corruptions[i].rce),
      ]),
      2,
    ),
  );
  lines.push('');
  lines.push(`**Macro-F1** per corruption and severity (clean ${f3(r.clean.macroF1)})`);
  lines.push('');
  lines.push(
    markdownTable(
      ['corruption', 'family', ...sev.map((s) => `s${s}`), 'mean'],
      perSeverity((x) => f3(x.macroF1)).map((row, i) => [...row, f3(r.corruptions[i].macroF1)]),
      2,
    ),
  );
  lines.push('');
  lines.push('**rCE** per corruption and severity');
  lines.push('');
  lines.push(
    markdownTable(
      ['corruption', 'family', ...sev.map((s) => `s${s}`), 'mean'],
      perSeverity((x) => signedPct(x.rce)).map((row, i) => [...row, signedPct(r.corruptions[i].rce)]),
      2,
    ),
  );
  lines.push('');
  lines.push('**Corruptions** (parameter at severities 1–5)');
  lines.push('');
  lines.push(
    markdownTable(
      ['corruption', 'family', 'what', 'parameter', 'levels'],
      r.corruptionInfo.map((c) => [c.name, c.family, c.description, c.parameter, c.levels.join(', ')]),
      99,
    ),
  );
  return lines.join('\n');
}

/** Long-form CSV: one row per (corruption, severity), clean first. */
export function robustnessCsv(r: RobustnessResult): string {
  const head = 'corruption,family,severity,parameter,accuracy,macro_f1,ece,error,rce';
  const row = (c: RobustnessCell) =>
    [
      c.corruption,
      c.family,
      c.severity,
      c.parameter === null ? '' : String(c.parameter),
      c.accuracy,
      c.macroF1,
      c.ece,
      c.error,
      c.rce,
    ]
      .map((v) => (typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(6)) : v))
      .join(',');
  return [head, row(r.clean), ...r.cells.map(row)].join('\n') + '\n';
}
