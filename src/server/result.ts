/** An analysis as the API returns it: the CLI's record shape (rounded numbers) without the file name. */
import { toOutput } from '../pipeline/records.js';
import type { AnalysisResult } from '../pipeline/types.js';

export function resultJson(r: AnalysisResult) {
  const { file: _file, ...rest } = toOutput('', r, true) as Exclude<ReturnType<typeof toOutput>, { error: string }>;
  return rest;
}
