/**
 * A valid progressive JPEG with as many scans as the format allows: every AC coefficient of
 * every component gets its own spectral band and is refined one bit at a time (Al 13 → 0), so a
 * width×height YCbCr 4:4:4 image carries 1 + 3 × 63 × 14 = 2647 scans. All coefficients are zero,
 * so each scan is a few bytes of end-of-band runs — yet a decoder walks every block of the image
 * once per scan. The cost a small file can buy; the decoder must refuse it from the bytes.
 */

class BitWriter {
  private bytes: number[] = [];
  private acc = 0;
  private n = 0;
  write(value: number, bits: number): void {
    for (let i = bits - 1; i >= 0; i--) {
      this.acc = (this.acc << 1) | ((value >> i) & 1);
      if (++this.n === 8) this.flushByte();
    }
  }
  private flushByte(): void {
    this.bytes.push(this.acc);
    if (this.acc === 0xff) this.bytes.push(0); // byte stuffing
    this.acc = 0;
    this.n = 0;
  }
  /** Pad the last byte with 1-bits, as the standard asks. */
  finish(): number[] {
    while (this.n !== 0) this.write(1, 1);
    return this.bytes;
  }
}

const segment = (marker: number, body: number[]) => [
  0xff,
  marker,
  (body.length + 2) >> 8,
  (body.length + 2) & 0xff,
  ...body,
];

/** One EOB-run symbol (r << 4, 4-bit code r) plus r extra bits per run of ≤ 32767 blocks. */
function eobRuns(w: BitWriter, blocks: number): void {
  let left = blocks;
  while (left > 0) {
    const run = Math.min(left, 32767);
    const r = Math.floor(Math.log2(run));
    w.write(r, 4);
    if (r) w.write(run - 2 ** r, r);
    left -= run;
  }
}

export interface ScanBombOptions {
  width: number;
  height: number;
  /** Scans to write (at most 2647); default all. */
  scans?: number;
}

export function progressiveScanBomb({ width, height, scans = 2647 }: ScanBombOptions): Buffer {
  const blocks = Math.ceil(width / 8) * Math.ceil(height / 8);
  const out: number[] = [0xff, 0xd8];
  out.push(...segment(0xdb, [0x00, ...new Array(64).fill(1)]));
  out.push(
    ...segment(0xc2, [8, height >> 8, height & 0xff, width >> 8, width & 0xff, 3, 1, 0x11, 0, 2, 0x11, 0, 3, 0x11, 0]),
  );
  // DC table 0: one 1-bit code for "difference 0"; AC table 0: 15 four-bit codes for EOB runs EOB0..EOB14
  const dcCounts = [1, ...new Array(15).fill(0)];
  out.push(...segment(0xc4, [0x00, ...dcCounts, 0x00]));
  const acCounts = [0, 0, 0, 15, ...new Array(12).fill(0)];
  out.push(...segment(0xc4, [0x10, ...acCounts, ...Array.from({ length: 15 }, (_, r) => r << 4)]));
  let written = 0;
  // DC first scan, all components interleaved: one zero difference per block
  {
    const w = new BitWriter();
    for (let i = 0; i < blocks * 3; i++) w.write(0, 1);
    out.push(...segment(0xda, [3, 1, 0x00, 2, 0x00, 3, 0x00, 0, 0, 0x00]));
    for (const b of w.finish()) out.push(b);
    written++;
  }
  for (let c = 1; c <= 3 && written < scans; c++) {
    for (let k = 1; k <= 63 && written < scans; k++) {
      for (let al = 13; al >= 0 && written < scans; al--) {
        const ah = al === 13 ? 0 : al + 1;
        const w = new BitWriter();
        eobRuns(w, blocks);
        out.push(...segment(0xda, [1, c, 0x00, k, k, (ah << 4) | al]), ...w.finish());
        written++;
      }
    }
  }
  out.push(0xff, 0xd9);
  return Buffer.from(out);
}
