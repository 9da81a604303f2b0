import { pinyin } from 'pinyin-pro';

/**
 * Finding a person on the roster by what the desk types: part of the name (三民), pinyin initials
 * (zsm), full pinyin (zhangsanmin) or a mix (zhangsm). Every reading of a polyphonic character is
 * tried (单 = dan/shan), and a surname is also read as a surname (曾 = zeng).
 */
const cache = new Map<string, string[][]>();

export function readingsOf(name: string): string[][] {
  let r = cache.get(name);
  if (!r) cache.set(name, (r = computeReadings(name)));
  return r;
}

function computeReadings(name: string): string[][] {
  const chars = [...name];
  const asSurname = pinyin(name, { surname: 'head', toneType: 'none', type: 'array', v: true });
  return chars.map((ch, i) => {
    const set = new Set<string>();
    const lower = ch.toLowerCase();
    if (/^[\u3400-\u9fff]$/.test(ch)) {
      for (const r of pinyin(ch, { multiple: true, toneType: 'none', type: 'array', v: true })) set.add(r.toLowerCase());
      if (i === 0 && asSurname[0]) set.add(asSurname[0].toLowerCase());
      // ü is typed as v or u.
      for (const r of [...set]) if (r.includes('v')) set.add(r.replace(/v/g, 'u'));
    } else {
      set.add(lower);
    }
    return [...set];
  });
}

function matchFrom(q: string, readings: string[][], i: number): boolean {
  if (q === '') return true;
  const options = readings[i];
  if (!options) return false;
  for (const r of options) {
    if (q.startsWith(r) && matchFrom(q.slice(r.length), readings, i + 1)) return true;
    if (r.startsWith(q)) return true;
    if (q[0] === r[0] && matchFrom(q.slice(1), readings, i + 1)) return true;
  }
  return false;
}

/** True when `query` finds `name` whose readings are `readings` (from readingsOf). */
export function nameMatches(name: string, readings: string[][], query: string): boolean {
  const q = query.trim().toLowerCase().replace(/\s+/g, '');
  if (q === '') return true;
  if (name.toLowerCase().includes(q)) return true;
  if (!/^[a-z]+$/.test(q)) return false;
  for (let i = 0; i < readings.length; i++) if (matchFrom(q, readings, i)) return true;
  return false;
}

/** A list searchable by name; readings are computed once per item. */
export class NameIndex<T> {
  readonly #items: { item: T; name: string; readings: string[][] }[];

  constructor(items: T[], nameOf: (item: T) => string) {
    this.#items = items.map((item) => ({ item, name: nameOf(item), readings: readingsOf(nameOf(item)) }));
  }

  search(query: string): T[] {
    return this.#items.filter((e) => nameMatches(e.name, e.readings, query)).map((e) => e.item);
  }
}
