/** Unit length, so the dot product SQL computes is the cosine whatever the provider returns. */
export function normalize(v: readonly number[]): number[] {
  let n = 0;
  for (const x of v) n += x * x;
  n = Math.sqrt(n);
  return n === 0 ? Array.from(v) : v.map((x) => x / n);
}
