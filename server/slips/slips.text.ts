/**
 * Every word printed on a slip in Chinese. The embedded fonts are subsets holding only these
 * characters (scripts/make-slip-font.ts reads this module), so changing a word here means
 * running that script again; tests/api/slips.test.ts fails until then instead of printing tofu.
 */
export const SLIP_TEXT = {
  /** 票条, as the admin pages and the sign-in desk call it (领打印票条). */
  title: '民主测评票条',
  /** One sentence in phrases: a line breaks only between them, never inside a word such as 网址. */
  instruction: ['请用微信扫一扫', '左侧二维码', '参加民主测评；', '无法扫码时，', '用浏览器打开', '下方网址，', '输入二维码下方的', '测评码。'],
  oneUse: '须在签到台登记发放后使用，只能使用一次',
  /** The serial the desk types when it hands the slip to a person: No.0012 */
  serial: (n: number) => `No.${String(n).padStart(4, '0')}`,
  /** Page footer: 民主测评票条　第 1 / 3 页 */
  footer: (page: number, pages: number) => `民主测评票条　第 ${page} / ${pages} 页`,
  /** The download's name. */
  filename: (count: number) => `测评票条-${count}张.pdf`,
} as const;

const unique = (text: string) => [...new Set(text)].sort().join('');

/** Printable ASCII: the short code and the typed-in address (a URL is ASCII once its host is punycode). */
const ASCII = String.fromCharCode(...Array.from({ length: 95 }, (_, i) => 32 + i));

/**
 * The characters each embedded font must cover. regular: Noto Sans CJK SC, for the sentences;
 * bold: Noto Sans Mono CJK SC Bold, for the title and, in its monospaced Latin, the code and the address.
 */
export const SLIP_FONT_CHARS = {
  regular: unique(SLIP_TEXT.instruction.join('') + SLIP_TEXT.oneUse + SLIP_TEXT.footer(0, 0) + '0123456789'),
  bold: unique(SLIP_TEXT.title + ASCII),
} as const;
