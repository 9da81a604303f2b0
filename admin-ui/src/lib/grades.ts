/**
 * Grade colours, the same on every chart, legend and entry button: grades are read by position
 * (best first), so the colour follows the position, and 弃权 is always grey.
 */
const PALETTES: Record<number, string[]> = {
  2: ['#2e7d32', '#c62828'],
  3: ['#2e7d32', '#e0a100', '#c62828'],
  4: ['#1b5e20', '#66a844', '#e0a100', '#c62828'],
  5: ['#1b5e20', '#66a844', '#e0a100', '#e8711a', '#c62828'],
  6: ['#1b5e20', '#4c9a3a', '#9ccc65', '#e0a100', '#e8711a', '#c62828'],
};
export const ABSTAIN_COLOUR = '#9e9e9e';
export const VOID_COLOUR = '#5d4037';

export function gradeColour(index: number, count: number): string {
  const palette = PALETTES[Math.min(6, Math.max(2, count))]!;
  return palette[Math.min(index, palette.length - 1)]!;
}

/** Whichever of dark or white text contrasts more with the colour (WCAG relative luminance). */
export function textOn(colour: string): string {
  const n = parseInt(colour.slice(1), 16);
  const lin = (c: number) => {
    const v = c / 255;
    return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
  };
  const l = 0.2126 * lin((n >> 16) & 255) + 0.7152 * lin((n >> 8) & 255) + 0.0722 * lin(n & 255);
  const dark = 0.0103; // luminance of #1a1a1a
  return (l + 0.05) / (dark + 0.05) > 1.05 / (l + 0.05) ? '#1a1a1a' : '#ffffff';
}
