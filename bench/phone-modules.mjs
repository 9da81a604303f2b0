// node bench/phone-modules.mjs — where the phone page's bytes come from: builds the voter page in memory
// (its real vite config, with source maps) and prints, per chunk, each source module's share of the
// minified code and the gzip size of that share alone (so the shares add up to more than the chunk).
// "(unmapped)" is code the source map names no source for: Svelte's templates (the page's HTML and
// Chinese text), vite's preload helper, the transpiler's helpers.
import { gzipSync } from 'node:zlib';
import { eachMapping, TraceMap } from '@jridgewell/trace-mapping';
import { build } from 'vite';

const result = await build({
  configFile: new URL('../voter-ui/vite.config.ts', import.meta.url).pathname,
  logLevel: 'error',
  build: { write: false, sourcemap: true },
});
for (const out of Array.isArray(result) ? result : [result]) {
  for (const chunk of out.output) {
    if (chunk.type !== 'chunk') continue;
    const code = chunk.code;
    const lineStart = [0];
    for (let i = 0; i < code.length; i++) if (code[i] === '\n') lineStart.push(i + 1);
    const mappings = [];
    eachMapping(new TraceMap(chunk.map), (m) => mappings.push(m));
    mappings.sort((a, b) => a.generatedLine - b.generatedLine || a.generatedColumn - b.generatedColumn);
    const owner = new Array(code.length).fill(null);
    for (let i = 0; i < mappings.length; i++) {
      const m = mappings[i];
      const next = mappings[i + 1];
      const end = next ? lineStart[next.generatedLine - 1] + next.generatedColumn : code.length;
      for (let k = lineStart[m.generatedLine - 1] + m.generatedColumn; k < end; k++) owner[k] = m.source;
    }
    const parts = new Map();
    for (let k = 0; k < code.length; k++) {
      const name = (owner[k] ?? '(unmapped)').replace(/^.*node_modules\//, '').replace(/^(\.\.\/)+/, '');
      parts.set(name, (parts.get(name) ?? '') + code[k]);
    }
    console.log(`\n${chunk.fileName}: ${code.length} bytes, ${gzipSync(code, { level: 9 }).length} gzip`);
    const rows = [...parts].map(([name, text]) => [name, text.length, gzipSync(text, { level: 9 }).length]).sort((a, b) => b[2] - a[2]);
    for (const [name, raw, gz] of rows) if (raw >= 150) console.log(`${String(gz).padStart(7)} gzip ${String(raw).padStart(7)} raw  ${name}`);
  }
}
