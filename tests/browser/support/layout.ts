/** Layout checks computed in the page: what a person would see cut off or too small to read. */
import type { Page } from '../../../apps/web/test-support/browser.js';

export interface Overflow {
  element: string;
  right: number;
}

/**
 * Elements whose right edge passes the viewport and that are not inside a horizontal scroller
 * (an ancestor with overflow-x auto or scroll), i.e. content a reader cannot reach. Empty when the page fits.
 */
export function overflowing(page: Page): Promise<Overflow[]> {
  return page.evaluate(() => {
    const width = document.documentElement.clientWidth;
    const inScroller = (el: Element) => {
      for (let a = el.parentElement; a && a !== document.documentElement; a = a.parentElement) {
        const o = getComputedStyle(a).overflowX;
        if (o === 'auto' || o === 'scroll') return true;
      }
      return false;
    };
    const name = (el: Element) => `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''}${el.classList.length ? `.${[...el.classList].join('.')}` : ''}`;
    const out: Array<{ element: string; right: number }> = [];
    for (const el of document.body.querySelectorAll('*')) {
      const r = el.getBoundingClientRect();
      if (r.width === 0 || r.height === 0) continue;
      if (r.right > width + 0.5 && !inScroller(el)) out.push({ element: name(el), right: Math.round(r.right) });
    }
    // Catches what escapes a scroller without being clipped by it (an absolutely positioned child whose containing block is outside).
    const page = document.documentElement.scrollWidth;
    if (page > width) out.push({ element: 'document (scrollWidth)', right: page });
    return out;
  });
}

/** The smallest rendered font size (CSS px, after the SVG's scaling) of any chart text on the page; null without charts. */
export function smallestChartText(page: Page): Promise<number | null> {
  return page.evaluate(() => {
    const sizes = [...document.querySelectorAll('svg text')].map((t) => {
      const ctm = (t as SVGTextElement).getScreenCTM();
      const scale = ctm ? Math.hypot(ctm.a, ctm.b) : 1;
      return parseFloat(getComputedStyle(t).fontSize) * scale;
    });
    return sizes.length ? Math.min(...sizes) : null;
  });
}
