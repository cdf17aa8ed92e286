/**
 * Helpers shared by the language-ecosystem schemes: a bounded cache of parsed versions (compare is
 * called once per installed package × advisory range bound, and the same few strings recur) and an
 * arbitrary-precision comparison of decimal digit strings (every ecosystem here orders numbers
 * without an upper bound, or with one far beyond 2^53).
 */

/** A first-in first-out bounded map from input string to its parse (`null` for an invalid input). */
export class ParsedCache<T> {
  private readonly entries = new Map<string, T | null>();

  constructor(
    private readonly parse: (input: string) => T | null,
    private readonly limit = 20_000,
  ) {}

  get(input: string): T | null {
    const hit = this.entries.get(input);
    if (hit !== undefined) return hit;
    if (this.entries.has(input)) return null;
    const parsed = this.parse(input);
    if (this.entries.size >= this.limit) {
      // Drop the oldest entry: Map iterates in insertion order.
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(input, parsed);
    return parsed;
  }

  get size(): number {
    return this.entries.size;
  }
}

/** Strips leading zeros of a run of ASCII digits, keeping one zero for an all-zero run. */
export function stripZeros(digits: string): string {
  let i = 0;
  while (i < digits.length - 1 && digits.charCodeAt(i) === 48) i++;
  return i === 0 ? digits : digits.slice(i);
}

/** Compares two runs of ASCII digits numerically, whatever their length (leading zeros allowed). */
export function compareDigits(a: string, b: string): number {
  const x = stripZeros(a);
  const y = stripZeros(b);
  if (x.length !== y.length) return x.length < y.length ? -1 : 1;
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Ordinal (UTF-16 code unit) comparison, as Java's String.compareTo, Go's and Ruby's (for ASCII) do. */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export const sign = (n: number): number => (n < 0 ? -1 : n > 0 ? 1 : 0);
