/**
 * A4 printing from the browser. Page numbers and a footer on every page come from @page margin
 * boxes, which Chromium draws from version 131 (Chrome, Edge); older engines (the 360 browser's
 * 极速模式) and Firefox ignore them, and the report then carries its footer once, at its end.
 */
export function supportsPageMarginBoxes(userAgent: string): boolean {
  if (/Firefox\//.test(userAgent)) return false;
  const m = /Chrom(?:e|ium)\/(\d+)/.exec(userAgent);
  return m !== null && Number(m[1]) >= 131;
}

/** A CSS string literal. */
export function cssString(text: string): string {
  return `"${text.replace(/[\\"]/g, (c) => `\\${c}`).replace(/[\r\n]+/g, ' ')}"`;
}

export interface PageSetup {
  landscape?: boolean;
  /** Bottom-left and bottom-right text of every page; the page number is in the middle. */
  footerLeft?: string;
  footerRight?: string;
}

const FONT = `'Microsoft YaHei', 'PingFang SC', 'Noto Sans CJK SC', 'Source Han Sans SC', 'WenQuanYi Micro Hei', sans-serif`;

export function pageCss(setup: PageSetup = {}): string {
  const box = (where: string, content: string) =>
    `@${where} { content: ${content}; font-family: ${FONT}; font-size: 8pt; color: #333; }`;
  return [
    '@page {',
    `  size: A4 ${setup.landscape ? 'landscape' : 'portrait'};`,
    '  margin: 14mm 12mm 16mm 12mm;',
    setup.footerLeft ? `  ${box('bottom-left', cssString(setup.footerLeft))}` : '',
    `  ${box('bottom-center', '"第 " counter(page) " 页，共 " counter(pages) " 页"')}`,
    setup.footerRight ? `  ${box('bottom-right', cssString(setup.footerRight))}` : '',
    '}',
  ].join('\n');
}

/** Put a stylesheet into the document until the returned function is called (a page's $effect cleanup). */
export function installStyle(css: string): () => void {
  const el = document.createElement('style');
  el.dataset.printSetup = '';
  el.textContent = css;
  document.head.append(el);
  return () => el.remove();
}
