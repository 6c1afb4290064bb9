/**
 * Plain aligned text tables, readable in a terminal and pasteable into the README as is.
 * The first column (the row's name) is left-aligned, the figures right-aligned.
 */
export function renderTable(title: string, header: readonly string[], rows: readonly (readonly string[])[], notes: readonly string[] = []): string {
  const widths = header.map((cell, column) => Math.max(cell.length, ...rows.map((row) => (row[column] ?? "").length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!)))
      .join("  ")
      .trimEnd();
  const rule = "-".repeat(widths.reduce((total, width) => total + width, 0) + 2 * (widths.length - 1));
  return [title, "", line(header), rule, ...rows.map(line), ...(notes.length > 0 ? ["", ...notes] : [])].join("\n");
}

/** `1234.5` → `"1,235"`, or with `digits` decimals; `undefined`/NaN → `"—"`. */
export function num(value: number | undefined, digits = 0): string {
  if (value === undefined || Number.isNaN(value)) return "—";
  return value.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export function verdict(met: boolean): string {
  return met ? "met" : "MISSED";
}
