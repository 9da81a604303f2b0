import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * Issue 11: "the import circles around App/ServiceDeps … go away". The server's modules import each other
 * without a circle, so each reads from its imports down and loads in one order. Type-only imports
 * (`import type …`) vanish at run time and may point anywhere; every other static import or re-export
 * (`import { type X } from` included) counts.
 */
const serverDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../server');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(p);
    return /\.(ts|mjs)$/.test(e.name) && !e.name.endsWith('.d.ts') && !e.name.endsWith('.d.mts') ? [p] : [];
  });
}

/** The module's run-time imports of other server modules (relative specifiers), as absolute paths. */
function runtimeImports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/^(import|export)\s+(type\s+)?([^;]*?)\s+from\s+'(\.[^']+)'/gms)) {
    if (m[2]) continue;
    out.push(path.resolve(path.dirname(file), m[4]!));
  }
  for (const m of text.matchAll(/^import\s+'(\.[^']+)'/gm)) out.push(path.resolve(path.dirname(file), m[1]!));
  return out;
}

/** Tarjan's strongly connected components of more than one module (or a module importing itself). */
function circles(graph: Map<string, string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string) => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      for (let w = stack.pop()!; ; w = stack.pop()!) {
        onStack.delete(w);
        component.push(w);
        if (w === v) break;
      }
      if (component.length > 1 || (graph.get(v) ?? []).includes(v)) found.push(component.map((f) => path.relative(serverDir, f)).sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

describe('server modules', () => {
  it('import each other without a circle', () => {
    const graph = new Map(sourceFiles(serverDir).map((f) => [f, runtimeImports(f)]));
    const edges = [...graph.values()].reduce((n, e) => n + e.length, 0);
    // The reading of imports works: many edges, and the cast path's own among them.
    expect(edges).toBeGreaterThan(200);
    expect(graph.get(path.join(serverDir, 'ballots/casting.ts'))).toContain(path.join(serverDir, 'ballots/validate-package.ts'));
    expect(circles(graph)).toEqual([]);
  });

  it('the check finds a circle when there is one', () => {
    const a = path.join(serverDir, 'a.ts');
    const b = path.join(serverDir, 'b.ts');
    const c = path.join(serverDir, 'c.ts');
    expect(circles(new Map([[a, [b]], [b, [c]], [c, [a]]]))).toEqual([['a.ts', 'b.ts', 'c.ts']]);
    expect(circles(new Map([[a, [b]], [b, []], [c, [a]]]))).toEqual([]);
  });
});
