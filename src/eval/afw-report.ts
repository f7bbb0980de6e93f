/** The AFW evaluation's Markdown report: recall and NME tables, calibrations, the head-pose breakdown, conventions. */

import type { AfwReport } from './afw.js';
import type { AfwPoseReport } from './afw-pose.js';

// ---------------------------------------------------------------------------------------------
// Report

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
const num = (x: number, d = 3) => (Number.isFinite(x) ? x.toFixed(d) : '–');

/** The report as Markdown: a recall table, an NME table, the calibrations, and the conventions. */
export function formatAfwMarkdown(report: AfwReport): string {
  const lines: string[] = [];
  lines.push(`# AFW: detection recall and 68-point landmark error`, '');
  lines.push(`${report.images} photos, ${report.faces} annotated faces (${report.dir}).`, '');
  lines.push(
    '| detector | faces | detections | recall IoU≥0.5 | recall IoU≥0.3 | recall tolerant | recall IoU≥0.5, calibrated (held-out) | mean IoU raw → calibrated | median ms/photo |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  );
  for (const s of report.summaries) {
    lines.push(
      `| ${s.label} | ${s.faces} | ${s.detections} | ${pct(s.recall.iou50)} | ${pct(s.recall.iou30)} | ${pct(s.recall.tolerant)} | ${pct(s.recall.calibratedIou50)} | ${num(s.meanIou.raw, 2)} → ${num(s.meanIou.calibrated, 2)} | ${num(s.detectMsMedian, 1)} |`,
    );
  }
  lines.push(
    '',
    '| detector + landmarks | landmark faces | mean NME | median NME | NME < 0.08 | NME < 0.10 | landmark ms/face (median) |',
    '|---|---:|---:|---:|---:|---:|---:|',
  );
  for (const s of report.summaries) {
    lines.push(
      `| ${s.label} | ${s.nme.faces} | ${num(s.nme.mean, 4)} | ${num(s.nme.median, 4)} | ${pct(s.nme.under008)} | ${pct(s.nme.under010)} | ${num(s.landmarkMsPerFaceMedian, 2)} |`,
    );
  }
  lines.push('', 'Box calibration (detector box → landmark box; fitted on all photos, for reference):', '');
  lines.push('| detector | centre shift x, y (× box w, h) | size factor w, h | pairs |', '|---|---|---|---:|');
  for (const s of report.summaries) {
    const c = s.calibration.all;
    lines.push(`| ${s.label} | ${num(c.ox)}, ${num(c.oy)} | ${num(c.sw)}, ${num(c.sh)} | ${c.pairs} |`);
  }
  if (report.pose) lines.push('', ...formatPoseMarkdown(report.pose));
  lines.push(
    '',
    'Conventions: the GT box of a face is the bounding box of its 68 annotated points (no forehead), so raw IoU',
    'understates detectors whose boxes include the forehead (SSD). "Tolerant": the GT box centre lies inside the',
    'detection and width and height agree within 2×. "Calibrated": detector boxes mapped by a fixed 4-parameter',
    'affine box transform (centre shift, size factors; medians over tolerant pairs) fitted on the other half of the',
    'photos (2-fold by index parity), then IoU ≥ 0.5. Matching is one-to-one, greedy by IoU. Recall only: AFW',
    'photos contain unannotated faces. NME: landmark model run on the raw detection box of each tolerant match;',
    'mean point error over 68 points divided by the GT outer-eye-corner distance (points 36–45).',
  );
  return `${lines.join('\n')}\n`;
}

/** The head-pose breakdown: the bin distribution, then recall and NME per detector and bin. */
export function formatPoseMarkdown(pose: AfwPoseReport): string[] {
  const lines = ['### By head pose', ''];
  lines.push(
    `Yaw fitted to each face's annotated points (weak-perspective fit of a generic 3D face; bins from the ground truth, not the detections): ` +
      `${pose.bins.map((b) => `${b.bin} ${b.faces}`).join(', ')} faces; |yaw| median ${num(pose.absYaw.median, 1)}°, ` +
      `90th percentile ${num(pose.absYaw.p90, 1)}°, max ${num(pose.absYaw.max, 1)}°.`,
    '',
    '| detector | pose | faces | recall IoU≥0.5 | recall IoU≥0.3 | recall tolerant | recall IoU≥0.5, calibrated (held-out) |',
    '|---|---|---:|---:|---:|---:|---:|',
  );
  for (const d of pose.detectors) {
    for (const b of d.bins) {
      // An empty bin has no recall (summarizeAfw's 0 would read as "found none").
      const r = (x: number) => (b.faces ? pct(x) : '–');
      lines.push(
        `| ${d.label} | ${b.bin} | ${b.faces} | ${r(b.recall.iou50)} | ${r(b.recall.iou30)} | ${r(b.recall.tolerant)} | ${r(b.recall.calibratedIou50)} |`,
      );
    }
  }
  lines.push(
    '',
    '| detector + landmarks | pose | landmark faces | mean NME | median NME | NME < 0.08 | NME < 0.10 |',
    '|---|---|---:|---:|---:|---:|---:|',
  );
  for (const d of pose.detectors) {
    for (const b of d.bins) {
      const e = b.nme;
      const r = (x: number) => (e.faces ? pct(x) : '–');
      lines.push(
        `| ${d.label} | ${b.bin} | ${e.faces} | ${num(e.mean, 4)} | ${num(e.median, 4)} | ${r(e.under008)} | ${r(e.under010)} |`,
      );
    }
  }
  return lines;
}
