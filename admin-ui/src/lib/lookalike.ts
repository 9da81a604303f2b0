/**
 * Names one slip of the finger apart (沈雪 / 沈雪立, 王芳 / 汪芳): the desk asks before signing in one of
 * them. Edit distance one, counted in characters (a CJK name is two to four of them).
 */
export function oneEditApart(a: string, b: string): boolean {
  if (a === b) return false;
  const x = Array.from(a);
  const y = Array.from(b);
  if (Math.abs(x.length - y.length) > 1) return false;
  if (x.length === y.length) return x.filter((c, i) => c !== y[i]).length === 1;
  const [short, long] = x.length < y.length ? [x, y] : [y, x];
  let i = 0;
  while (i < short.length && short[i] === long[i]) i++;
  return short.slice(i).join('') === long.slice(i + 1).join('');
}

/** The other names on the roster a desk could mistake for `name`. */
export function lookAlikes(name: string, names: readonly string[]): string[] {
  return [...new Set(names.filter((n) => oneEditApart(name, n)))];
}
