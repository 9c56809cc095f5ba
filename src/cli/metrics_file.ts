// A run's metrics.jsonl: one JSON record per line, appended as training goes; a resumed run first drops the records
// written after its checkpoint (it logs them again).

import * as fs from "node:fs";
import { withPath } from "../io/atomic.js";

export function appendMetric(file: string, rec: Record<string, unknown>): void {
  withPath(file, () => fs.appendFileSync(file, JSON.stringify(rec) + "\n"));
}

/** Keeps the records `keep` accepts; a torn last line (the process was killed while appending) is dropped. */
export function truncateMetrics(file: string, keep: (rec: Record<string, unknown>) => boolean): void {
  if (!fs.existsSync(file)) return;
  const lines = fs
    .readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => {
      if (!l.trim()) return false;
      try {
        const r = JSON.parse(l) as unknown;
        return typeof r === "object" && r !== null && !Array.isArray(r) && keep(r as Record<string, unknown>);
      } catch {
        return false;
      }
    });
  withPath(file, () => fs.writeFileSync(file, lines.map((l) => l + "\n").join("")));
}
