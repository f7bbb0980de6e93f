/** A progress bar on stderr with rate and ETA; silent when stderr is not a terminal. */
export class ProgressBar {
  private readonly start = performance.now();
  private lastDraw = 0;
  private readonly enabled: boolean;

  constructor(
    private readonly total: number,
    private readonly unit = 'items',
    enabled = process.stderr.isTTY === true,
  ) {
    this.enabled = enabled && total > 1;
  }

  update(done: number, note = ''): void {
    if (!this.enabled) return;
    const t = performance.now();
    if (done < this.total && t - this.lastDraw < 100) return;
    this.lastDraw = t;
    const elapsed = (t - this.start) / 1000;
    const rate = done / Math.max(elapsed, 1e-6);
    const eta = done > 0 ? (this.total - done) / rate : 0;
    const frac = this.total ? done / this.total : 1;
    const width = 28;
    const bar = '█'.repeat(Math.round(frac * width)).padEnd(width, '░');
    const line = `${bar} ${done}/${this.total} ${this.unit} ${rate.toFixed(1)}/s ETA ${formatSeconds(eta)} ${note}`;
    const cols = process.stderr.columns ?? 100;
    process.stderr.write(`\r${line.slice(0, cols - 1).padEnd(Math.min(cols - 1, line.length + 2))}`);
  }

  finish(): void {
    if (this.enabled) process.stderr.write('\n');
  }
}

export function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '?';
  const m = Math.floor(s / 60);
  return m ? `${m}m${String(Math.round(s % 60)).padStart(2, '0')}s` : `${Math.round(s)}s`;
}
