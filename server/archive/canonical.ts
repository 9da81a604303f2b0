/**
 * Canonical JSON (the JSON Canonicalization Scheme, RFC 8785, for the values an archive holds):
 * object keys sorted by UTF-16 code units, no whitespace, strings and numbers written exactly as
 * ECMAScript's JSON.stringify writes them (RFC 8785 §3.2.2 adopts that algorithm). The hash and the
 * signature of an archive are taken over these bytes, so any parser that keeps the values gets the
 * same bytes back, whatever order or spacing a file arrives in.
 *
 * Stricter than RFC 8785 where a difference could hide a change: non-finite numbers, lone surrogates,
 * and `undefined` inside arrays are refused instead of being coerced.
 */
export function canonicalJson(value: unknown): string {
  return write(value, '$');
}

export class CanonicalJsonError extends Error {
  override name = 'CanonicalJsonError';
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function write(v: unknown, at: string): string {
  if (v === null) return 'null';
  switch (typeof v) {
    case 'boolean':
      return v ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(v)) throw new CanonicalJsonError(`${at}: number ${v} has no JSON form`);
      return JSON.stringify(v);
    case 'string':
      if (LONE_SURROGATE.test(v)) throw new CanonicalJsonError(`${at}: string holds a lone surrogate`);
      return JSON.stringify(v);
    case 'object': {
      if (Array.isArray(v)) {
        return `[${v.map((x, i) => {
          if (x === undefined) throw new CanonicalJsonError(`${at}[${i}]: undefined in an array`);
          return write(x, `${at}[${i}]`);
        }).join(',')}]`;
      }
      const proto = Object.getPrototypeOf(v);
      if (proto !== Object.prototype && proto !== null) throw new CanonicalJsonError(`${at}: only plain objects have a JSON form`);
      // Default sort compares UTF-16 code units, as RFC 8785 §3.2.3 asks. Undefined members are left out, as JSON does.
      const keys = Object.keys(v).filter((k) => (v as Record<string, unknown>)[k] !== undefined).sort();
      return `{${keys.map((k) => `${write(k, at)}:${write((v as Record<string, unknown>)[k], `${at}.${k}`)}`).join(',')}}`;
    }
    default:
      throw new CanonicalJsonError(`${at}: ${typeof v} has no JSON form`);
  }
}
