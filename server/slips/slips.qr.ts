import QRCode from 'qrcode';

/** Dark modules y, x … x+w-1 of one row: drawn as one rectangle instead of w squares. */
export interface ModuleRun {
  x: number;
  y: number;
  w: number;
}

export interface QrRuns {
  /** Modules per side, without the quiet zone. */
  size: number;
  runs: ModuleRun[];
}

/** The QR of text (level M, as on the desk screen) as horizontal runs of dark modules, row by row. */
export function qrRuns(text: string): QrRuns {
  const { size, data } = QRCode.create(text, { errorCorrectionLevel: 'M' }).modules;
  const runs: ModuleRun[] = [];
  for (let y = 0; y < size; y++) {
    const row = y * size;
    for (let x = 0; x < size; ) {
      if (!data[row + x]) {
        x++;
        continue;
      }
      const start = x;
      while (x < size && data[row + x]) x++;
      runs.push({ x: start, y, w: x - start });
    }
  }
  return { size, runs };
}
