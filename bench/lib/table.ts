/** Plain-text tables for the human report. */

export type Align = "left" | "right";

export function renderTable(headers: string[], rows: string[][], align: Align[] = []): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const cell = (text: string, i: number) =>
    (align[i] ?? (i === 0 ? "left" : "right")) === "left"
      ? text.padEnd(widths[i] ?? 0)
      : text.padStart(widths[i] ?? 0);
  const line = (cells: string[]) => cells.map(cell).join("  ").trimEnd();
  return [line(headers), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}
