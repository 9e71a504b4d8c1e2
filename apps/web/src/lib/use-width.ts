import { useCallback, useEffect, useRef, useState } from 'preact/hooks';

/**
 * The rendered width of an element in CSS pixels, kept current with a ResizeObserver. Charts draw in
 * these units (viewBox = rendered size), so their text is as large on a phone as on a desktop instead
 * of being scaled down with the drawing. The callback ref re-observes whenever the element is replaced.
 */
export function useWidth<T extends Element>(fallback: number): [(el: T | null) => void, number] {
  const [width, setWidth] = useState(fallback);
  const observer = useRef<ResizeObserver | null>(null);
  const ref = useCallback((el: T | null) => {
    observer.current?.disconnect();
    observer.current = null;
    if (!el) return;
    const measure = () => setWidth(Math.round(el.getBoundingClientRect().width) || fallback);
    measure();
    observer.current = new ResizeObserver(measure);
    observer.current.observe(el);
  }, []);
  useEffect(() => () => observer.current?.disconnect(), []);
  return [ref, width];
}
