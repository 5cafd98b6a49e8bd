import type { Trajectory } from "../trajectory.js";
import { escapeHtml } from "./escape.js";

/**
 * A verdict trajectory as a small line: P(label) at each probe (0 at the bottom, 1 at the top, the 0.5
 * line dashed), a dot per probe, green where the verdict read was the label and red where it was not.
 * Without probabilities the dots sit at 1 (right) or 0 (wrong). Pure string building, escaped.
 */
export function svgTrajectory(trajectory: Trajectory, options: { width?: number; height?: number } = {}): string {
  const width = options.width ?? 160;
  const height = options.height ?? 36;
  const pad = 4;
  const n = trajectory.points.length;
  const x = (index: number) => pad + (n <= 1 ? 0 : (index * (width - 2 * pad)) / (n - 1));
  const y = (p: number) => pad + (1 - p) * (height - 2 * pad);
  const value = (point: Trajectory["points"][number]) => point.pLabel ?? (point.verdict === trajectory.label ? 1 : 0);
  const line = trajectory.points.map((point, index) => `${x(index).toFixed(1)},${y(value(point)).toFixed(1)}`).join(" ");
  const dots = trajectory.points
    .map((point, index) => {
      const right = point.verdict === trajectory.label;
      const title = `${point.waits} wait${point.waits === 1 ? "" : "s"}: ${point.verdict ?? "none"}${point.pLabel === undefined ? "" : `, P(label) ${point.pLabel.toFixed(2)}`}`;
      return `<circle cx="${x(index).toFixed(1)}" cy="${y(value(point)).toFixed(1)}" r="2.5" fill="${right ? "#2e7d32" : "#c62828"}"><title>${escapeHtml(title)}</title></circle>`;
    })
    .join("");
  const label = `${trajectory.itemId}: P(label ${trajectory.label}) at each attempted end of thinking`;
  return `<svg xmlns="http://www.w3.org/2000/svg" class="trajectory" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${escapeHtml(label)}"><line x1="${pad}" x2="${width - pad}" y1="${y(0.5)}" y2="${y(0.5)}" stroke="#bbb" stroke-dasharray="3 3"/><polyline points="${line}" fill="none" stroke="#555" stroke-width="1.2"/>${dots}</svg>`;
}

/** The same trajectory as text: "A .61 → B .61 → B .79" (verdicts in the item's labels, P(label)). */
export function trajectoryText(trajectory: Trajectory): string {
  return trajectory.points.map((point) => `${point.verdict ?? "none"}${point.pLabel === undefined ? "" : ` ${point.pLabel.toFixed(2).replace(/^0/, "")}`}`).join(" → ");
}
