import type { Distribution } from "./helpers.js";
import { num } from "./table.js";

/** A server's figures over its rounds of the same load, as the receiver benchmarks keep them. */
export interface LoadRuns {
  name: string;
  runs: readonly { deliveries: number; latency: Distribution; statuses: Record<number, number> }[];
}

/** Deliveries answered `200` over every round. */
export function acked200(row: LoadRuns): number {
  return row.runs.reduce((total, run) => total + (run.statuses[200] ?? 0), 0);
}

/** Deliveries sent over every round. */
export function sent(row: LoadRuns): number {
  return row.runs.reduce((total, run) => total + run.deliveries, 0);
}

/** The table cell of the load: `3 x 10,000` over rounds, the count alone for one run. */
export function deliveriesCell(row: LoadRuns): string {
  return row.runs.length > 1 ? `${row.runs.length} x ${num(row.runs[0]!.deliveries)}` : num(row.runs[0]!.deliveries);
}

/** The table cell of the lowest and highest p99 of the rounds (`23-31`); empty for one run. */
export function p99RangeCell(row: LoadRuns): string {
  const p99s = row.runs.map((run) => run.latency.p99);
  return row.runs.length > 1 ? `${num(Math.min(...p99s))}-${num(Math.max(...p99s))}` : "";
}

/** The note under a table for a server whose answers were not all `200`. */
export function statusNote(row: LoadRuns): string {
  return `${row.name}: answers by status ${JSON.stringify(row.runs.map((run) => run.statuses))} (0 = no answer within 30 s, or a connection error)`;
}
