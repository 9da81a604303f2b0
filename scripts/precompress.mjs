// Precompresses the built pages: beside every text file in dist/, a .br (brotli, quality 11) and a .gz
// (gzip, level 9), made once at build, so the server sends them as they are (@fastify/static with
// preCompressed) and a phone on the township Wi-Fi downloads about a third of the bytes. A variant that
// is not smaller than its file is not written; the server then sends the file itself.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

const COMPRESSIBLE = /\.(html|js|mjs|css|svg|json|txt|map|xml|webmanifest)$/;

function* files(dir) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) yield* files(p);
    else yield p;
  }
}

/** Write `.br` and `.gz` beside each compressible file under `dir`; returns how many files it compressed. */
export function precompress(dir) {
  let count = 0;
  for (const file of [...files(dir)]) {
    if (!COMPRESSIBLE.test(file)) continue;
    const data = readFileSync(file);
    const br = brotliCompressSync(data, {
      params: {
        [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
        [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
        [constants.BROTLI_PARAM_SIZE_HINT]: data.length,
      },
    });
    const gz = gzipSync(data, { level: constants.Z_BEST_COMPRESSION });
    if (br.length < data.length) writeFileSync(`${file}.br`, br);
    if (gz.length < data.length) writeFileSync(`${file}.gz`, gz);
    count++;
  }
  return count;
}
