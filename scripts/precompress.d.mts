/** Write `.br` and `.gz` beside each compressible file under `dir`; returns how many files it compressed. */
export function precompress(dir: string): number;
