import QRCode from 'qrcode';

/**
 * A QR code as one SVG path, drawn here from the URL the server returned (no image request, no
 * canvas): the desk screen, the rehearsal card and printed slips all use it.
 */
export function qrPath(text: string): { size: number; path: string } {
  const qr = QRCode.create(text, { errorCorrectionLevel: 'M' });
  const size = qr.modules.size;
  const data = qr.modules.data;
  let path = '';
  for (let y = 0; y < size; y++) {
    let run = 0;
    for (let x = 0; x <= size; x++) {
      const dark = x < size && data[y * size + x];
      if (dark) run++;
      else if (run > 0) {
        path += `M${x - run} ${y}h${run}v1h-${run}z`;
        run = 0;
      }
    }
  }
  return { size, path };
}
