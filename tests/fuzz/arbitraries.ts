import fc from 'fast-check';

/**
 * fast-check arbitraries made from the JSON Schemas of /api/openapi.json (which the server generates
 * from its zod schemas): values the schema accepts, and mutations of them that it mostly does not.
 * Whether a generated request is valid is decided afterwards by ajv against the same document, never
 * by the server's own code.
 */

export type JsonSchema = {
  type?: string | string[];
  const?: unknown;
  enum?: unknown[];
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  propertyNames?: JsonSchema;
  items?: JsonSchema;
  minItems?: number;
  maxItems?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  default?: unknown;
};

/** Words that make text look like what the API really carries (names, categories, Chinese). */
const UNITS = ['张', '三', '李', '四', '党', '员', '村', '·', ' ', 'A', 'b', '1', '-', '_', '\u3000', 'é', '😀'];

function text(min: number, max: number): fc.Arbitrary<string> {
  const hi = Math.max(min, Math.min(max, min + 24));
  return fc.oneof(
    { weight: 3, arbitrary: fc.string({ minLength: min, maxLength: hi, unit: fc.constantFrom(...UNITS) }) },
    { weight: 2, arbitrary: fc.string({ minLength: min, maxLength: hi }) },
    { weight: 1, arbitrary: fc.string({ minLength: min, maxLength: hi, unit: 'binary' }) },
  );
}

/** Small numbers most of the time: a count of 1,000 slips now and then, not every other request. */
function integer(min: number, max: number): fc.Arbitrary<number> {
  const lo = Math.max(min, -1_000_000);
  const hi = Math.min(max, 1_000_000);
  if (lo > hi) return fc.constant(min);
  const near = Math.min(hi, lo + 10);
  return fc.oneof({ weight: 8, arbitrary: fc.integer({ min: lo, max: near }) }, { weight: 1, arbitrary: fc.integer({ min: lo, max: hi }) });
}

export interface Hints {
  /** Values to mix in by property name (world ids, a valid ballot package, …). */
  byProperty: Record<string, fc.Arbitrary<unknown>>;
}

export function arbitraryOf(schema: JsonSchema, hints: Hints, depth = 0, name?: string): fc.Arbitrary<unknown> {
  const own = ownArbitrary(schema, hints, depth);
  const hint = name !== undefined ? hints.byProperty[name] : undefined;
  return hint ? fc.oneof({ weight: 3, arbitrary: hint }, { weight: 1, arbitrary: own }) : own;
}

function ownArbitrary(s: JsonSchema, hints: Hints, depth: number): fc.Arbitrary<unknown> {
  if (s.const !== undefined) return fc.constant(s.const);
  if (s.enum) return fc.constantFrom(...s.enum);
  const alternatives = s.anyOf ?? s.oneOf;
  if (alternatives) return fc.oneof(...alternatives.map((a) => arbitraryOf(a, hints, depth + 1)));
  if (s.allOf?.length) return arbitraryOf(s.allOf[0]!, hints, depth + 1);
  const types = Array.isArray(s.type) ? s.type : s.type ? [s.type] : [];
  if (types.length > 1) return fc.oneof(...types.map((t) => ownArbitrary({ ...s, type: t }, hints, depth)));
  switch (types[0]) {
    case 'null':
      return fc.constant(null);
    case 'boolean':
      return fc.boolean();
    case 'integer': {
      const min = s.exclusiveMinimum !== undefined ? s.exclusiveMinimum + 1 : (s.minimum ?? -1000);
      const max = s.exclusiveMaximum !== undefined ? s.exclusiveMaximum - 1 : (s.maximum ?? 1000);
      return integer(min, max);
    }
    case 'number': {
      const min = s.minimum ?? -1000;
      const max = s.maximum ?? 1000;
      return fc.double({ min, max, noNaN: true, noDefaultInfinity: true });
    }
    case 'string': {
      if (s.pattern) {
        const min = s.minLength ?? 0;
        const max = s.maxLength ?? Infinity;
        // A character class with a length of its own (base64url of 32 bytes): built to length, since
        // filtering random matches by length would almost never finish.
        const cls = /^\^\[([^\]]+)\](?:\+|\*)\$$/.exec(s.pattern);
        if (cls && (s.minLength !== undefined || s.maxLength !== undefined)) {
          return fc.string({ minLength: min, maxLength: Math.min(max, min + 24), unit: fc.constantFrom(...classChars(cls[1]!)) });
        }
        return fc.stringMatching(new RegExp(s.pattern)).filter((v) => v.length >= min && v.length <= max);
      }
      return text(s.minLength ?? 0, s.maxLength ?? 40);
    }
    case 'array': {
      const min = s.minItems ?? 0;
      const max = Math.min(s.maxItems ?? 4, min + (depth > 4 ? 1 : 4));
      return fc.array(s.items ? arbitraryOf(s.items, hints, depth + 1) : fc.jsonValue({ maxDepth: 1 }), { minLength: min, maxLength: max });
    }
    case 'object':
      return objectArbitrary(s, hints, depth);
    default:
      return depth > 3 ? fc.constant(null) : fc.jsonValue({ maxDepth: 2 });
  }
}

/** The characters of a regex class body such as A-Za-z0-9_- (ranges and single characters). */
function classChars(body: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (body[i + 1] === '-' && i + 2 < body.length) {
      for (let x = c.charCodeAt(0); x <= body.charCodeAt(i + 2); x++) out.push(String.fromCharCode(x));
      i += 2;
    } else if (c !== '\\') out.push(c);
  }
  return out;
}

function objectArbitrary(s: JsonSchema, hints: Hints, depth: number): fc.Arbitrary<unknown> {
  const props = s.properties ?? {};
  const required = new Set(s.required ?? []);
  const record = fc.record(
    Object.fromEntries(Object.entries(props).map(([k, v]) => [k, arbitraryOf(v, hints, depth + 1, k)])),
    { requiredKeys: [...required].filter((k) => k in props) },
  );
  if (Object.keys(props).length > 0 || s.additionalProperties === false || s.additionalProperties === undefined) return record;
  // A record keyed by the request (a package's parts, a part's subjects).
  const keys = s.propertyNames ? (arbitraryOf(s.propertyNames, hints, depth + 1) as fc.Arbitrary<string>) : text(1, 8);
  const values = s.additionalProperties === true ? fc.jsonValue({ maxDepth: 1 }) : arbitraryOf(s.additionalProperties, hints, depth + 1);
  return fc.dictionary(keys, values, { maxKeys: depth > 3 ? 2 : 5 });
}

// ---- mutations ----

type Path = (string | number)[];

function paths(value: unknown, here: Path = [], out: Path[] = [], depth = 0): Path[] {
  out.push(here);
  if (depth > 12 || value === null || typeof value !== 'object') return out;
  if (Array.isArray(value)) value.forEach((v, i) => paths(v, [...here, i], out, depth + 1));
  else for (const [k, v] of Object.entries(value)) paths(v, [...here, k], out, depth + 1);
  return out;
}

const ODD_VALUES: unknown[] = [
  null,
  -1,
  0,
  1.5,
  1e308,
  '',
  ' ',
  '\ud800',
  '\u0000',
  '<script>alert(1)</script>',
  'x'.repeat(5000),
  [],
  {},
  JSON.parse(`${'['.repeat(30)}${']'.repeat(30)}`) as unknown,
  JSON.parse('{"__proto__":{"polluted":true}}') as unknown,
  true,
];

/** One change to a copy of `value`, chosen by `kind` at the path chosen by `where`. */
export function mutate(value: unknown, kind: number, where: number, oddIndex: number): unknown {
  const copy = value === undefined ? undefined : (JSON.parse(JSON.stringify(value)) as unknown);
  const all = paths(copy);
  const path = all[where % all.length]!;
  const replace = (next: (old: unknown) => unknown): unknown => {
    if (path.length === 0) {
      const v = next(copy);
      return v === DELETE ? undefined : v;
    }
    let parent = copy as Record<string | number, unknown>;
    for (const k of path.slice(0, -1)) parent = parent[k] as Record<string | number, unknown>;
    const last = path[path.length - 1]!;
    const v = next(parent[last]);
    if (v === DELETE) {
      if (Array.isArray(parent)) parent.splice(Number(last), 1);
      else delete parent[last];
    } else parent[last] = v;
    return copy;
  };
  switch (kind % 7) {
    case 0:
      return replace(() => DELETE);
    case 1:
      return replace(() => ODD_VALUES[oddIndex % ODD_VALUES.length]);
    case 2:
      return replace((old) => (typeof old === 'string' ? old + 'x'.repeat(50 + (oddIndex % 3000)) : typeof old === 'number' ? old * 1e6 + 0.5 : [old]));
    case 3:
      return replace((old) => (typeof old === 'number' ? String(old) : typeof old === 'string' ? Number(old.length) : typeof old === 'boolean' ? String(old) : 'text'));
    case 4:
      return replace((old) => (old !== null && typeof old === 'object' && !Array.isArray(old) ? { ...old, zz_unknown_key: 1, constructor: { prototype: { bad: 1 } } } : { value: old }));
    case 5:
      return replace((old) => JSON.parse(`${'['.repeat(40 + (oddIndex % 40))}${JSON.stringify(old ?? null)}${']'.repeat(40 + (oddIndex % 40))}`));
    default:
      return replace(() => (oddIndex % 2 ? -(oddIndex + 1) : Number.MAX_SAFE_INTEGER + 2));
  }
}

const DELETE = Symbol('delete');
