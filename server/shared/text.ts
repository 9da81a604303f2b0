/**
 * The server's rules for odd characters in text, in one place:
 * - what an XML file (XLSX, DOCX) can carry, for every exported cell and run (xmlText);
 * - the cleaning of names and labels the desk types or imports (cleanText, cleanName): invisible
 *   characters dropped, white space collapsed, so a name cannot be blank-looking or shown reversed;
 * - ill-formed UTF-16 (a half of a surrogate pair standing alone), which no stored text may hold
 *   (firstIllFormed: the JSON body parser refuses it, see http-errors.ts).
 */

/**
 * Characters an exported XML file must not hold: those XML 1.0 forbids (C0 controls but tab and line
 * breaks, U+FFFE, U+FFFF, lone surrogates: Excel and Word call such a file damaged), and those it
 * discourages and nobody types, which print as nothing (C1 controls, the 66 Unicode noncharacters
 * U+FDD0–U+FDEF and U+nFFFE/U+nFFFF of every plane).
 */
const NOT_XML_TEXT = /[^\t\n\r\u0020-\u007e\u00a0-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]|\p{Noncharacter_Code_Point}/gu;

/** The text without the characters an XML file cannot (or should not) carry. */
export function xmlText(text: string): string {
  return text.replace(NOT_XML_TEXT, '');
}

/**
 * Characters dropped from a name or label: C0 and C1 controls, zero-width characters (U+200B–U+200D,
 * U+2060, U+FEFF), the soft hyphen, the bidirectional controls that reorder what is shown (U+200E,
 * U+200F, U+061C, U+202A–U+202E, U+2066–U+2069: a U+202E shows 张三 as 三张) and noncharacters.
 * Tab and line breaks are white space (collapsed below), not dropped.
 */
const INVISIBLE = /[\u0000-\u0008\u000e-\u001f\u007f-\u009f\u00ad\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]|\p{Noncharacter_Code_Point}/gu;
/** Spaces next to a Chinese character (or the middle dot of names like 买买提·艾力) are typing slips. */
const SPACE_NEAR_HAN = /\s+(?=[\p{Script=Han}·•・])|(?<=[\p{Script=Han}·•・])\s+/gu;

/** Trim, drop invisible characters, collapse runs of white space (full-width too) into one space. */
export function cleanText(raw: string): string {
  return raw.replace(INVISIBLE, '').replace(/\s+/gu, ' ').trim();
}

/** A person's name as the roster and the team keep it: cleanText, and no spaces beside a Chinese character. */
export function cleanName(raw: string): string {
  return cleanText(raw).replace(SPACE_NEAR_HAN, '');
}

/** A half of a surrogate pair standing alone (in u mode a pair is one code point, never matched). */
const LONE_SURROGATE = /\p{Surrogate}/u;

export function isWellFormed(text: string): boolean {
  return !LONE_SURROGATE.test(text);
}

/**
 * The JSON-pointer path of the first string (a value or a key) in a parsed JSON value that holds a lone
 * surrogate, or null if there is none. JSON text can carry one only as an escape (\uD800); the
 * parser checks for such an escape before walking (mayHoldSurrogate).
 */
export function firstIllFormed(value: unknown, path = ''): string | null {
  if (typeof value === 'string') return isWellFormed(value) ? null : path === '' ? '/' : path;
  if (typeof value !== 'object' || value === null) return null;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = firstIllFormed(value[i], `${path}/${i}`);
      if (found !== null) return found;
    }
    return null;
  }
  for (const [k, v] of Object.entries(value)) {
    if (!isWellFormed(k)) return `${path}/${k}`;
    const found = firstIllFormed(v, `${path}/${k}`);
    if (found !== null) return found;
  }
  return null;
}

/** Whether JSON text has a \uD800–\uDFFF escape at all (an escaped backslash before `u` is no escape). */
export function mayHoldSurrogate(json: string): boolean {
  return /(?:^|[^\\])(?:\\\\)*\\u[dD][89a-fA-F]/.test(json);
}
