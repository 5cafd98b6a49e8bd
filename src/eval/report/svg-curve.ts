import { linearAxis, log2Axis, toAxisUnits, type Axis, type AxisScale } from "./axis.js";
import { escapeHtml, seriesColor } from "./escape.js";

/** One line on the chart (one run), its points in the order they are joined. */
export interface CurveSeries {
  label: string;
  points: Array<{ x: number; y: number; label: string }>;
}

export interface CurveOptions {
  /** "log2" drops points with x <= 0 (they have no place on the axis); default "linear". */
  xScale?: AxisScale;
  xLabel?: string;
  yLabel?: string;
  /** Accessible name of the chart (read by screen readers, shown as a tooltip). */
  title?: string;
  width?: number;
  height?: number;
  /** Clamp the y domain (scores: [0, 100]). */
  yClamp?: [number, number];
  /** Smallest y span shown, so a flat curve is not blown up to fill the chart (default 4 points). */
  yMinSpan?: number;
  /** Show the legend; default when there is more than one series. */
  legend?: boolean;
  /** Colour of each series by position (default: the report palette). */
  colors?: string[];
}

const MARGIN = { left: 58, right: 34, top: 18, bottom: 50 };
const LEGEND_ROW = 18;
const FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif";

/**
 * A scaling curve as a standalone inline SVG string: one polyline plus markers per series, ticks and axis
 * labels, a label by each point ("waits=2") and a legend above the plot when several series share it.
 * Markers differ in shape per series as well as colour, so the chart still reads printed in grey.
 * Pure string building, no DOM, so the CLI and the eval can embed it anywhere.
 */
export function svgScalingCurve(series: readonly CurveSeries[], options: CurveOptions = {}): string {
  const width = options.width ?? 560;
  const height = options.height ?? 320;
  const scale = options.xScale ?? "linear";
  const drawn = series.map((line) => ({ ...line, points: line.points.filter((point) => scale !== "log2" || point.x > 0) }));
  const all = drawn.flatMap((line) => line.points);
  const title = options.title ?? "Scaling curve";
  if (all.length === 0) {
    return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} 60" width="${width}" height="60" role="img" aria-label="${escapeHtml(title)}" font-family="${FONT}"><text x="${width / 2}" y="34" text-anchor="middle" font-size="13" fill="#666">no points to plot</text></svg>`;
  }

  const showLegend = options.legend ?? series.length > 1;
  const legendHeight = showLegend ? series.length * LEGEND_ROW + 8 : 0;
  const plot = { left: MARGIN.left, top: MARGIN.top + legendHeight, right: width - MARGIN.right, bottom: height + legendHeight - MARGIN.bottom };
  const xAxis = scale === "log2" ? log2Axis(all.map((point) => point.x)) : linearAxis(all.map((point) => point.x), { minSpan: 1, pad: 0.06 });
  const yAxis = linearAxis(
    all.map((point) => point.y),
    { minSpan: options.yMinSpan ?? 4, clamp: options.yClamp, tickCount: 5 },
  );
  const px = (x: number) => plot.left + ((toAxisUnits(scale, x) - xAxis.min) / (xAxis.max - xAxis.min || 1)) * (plot.right - plot.left);
  const py = (y: number) => plot.bottom - ((y - yAxis.min) / (yAxis.max - yAxis.min || 1)) * (plot.bottom - plot.top);
  const color = (index: number) => options.colors?.[index] ?? seriesColor(index);

  const parts: string[] = [];
  const totalHeight = height + legendHeight;
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" class="curve" viewBox="0 0 ${width} ${totalHeight}" width="${width}" height="${totalHeight}" role="img" aria-label="${escapeHtml(title)}" font-family="${FONT}" font-size="11">`,
    `<title>${escapeHtml(title)}</title>`,
  );
  parts.push(...gridAndAxes(xAxis, yAxis, plot, (at) => plot.left + ((at - xAxis.min) / (xAxis.max - xAxis.min || 1)) * (plot.right - plot.left), py));
  parts.push(
    `<text x="${(plot.left + plot.right) / 2}" y="${plot.bottom + 38}" text-anchor="middle" fill="#333" font-size="12">${escapeHtml(options.xLabel ?? "")}</text>`,
    `<text transform="translate(14 ${(plot.top + plot.bottom) / 2}) rotate(-90)" text-anchor="middle" fill="#333" font-size="12">${escapeHtml(options.yLabel ?? "")}</text>`,
  );

  drawn.forEach((line, index) => {
    const stroke = color(index);
    const coordinates = line.points.map((point) => `${fixed(px(point.x))},${fixed(py(point.y))}`).join(" ");
    parts.push(`<g class="series" data-series="${index}">`);
    parts.push(`<polyline points="${coordinates}" fill="none" stroke="${stroke}" stroke-width="2" stroke-linejoin="round" stroke-linecap="round"/>`);
    // Alternate label sides between series, so two runs measured at the same settings do not overprint.
    const above = index % 2 === 0;
    for (const point of line.points) {
      const x = px(point.x);
      const y = py(point.y);
      parts.push(`<g>${marker(index, x, y, stroke)}<title>${escapeHtml(`${line.label}: ${point.label}, score ${point.y.toFixed(2)}`)}</title></g>`);
      parts.push(`<text x="${fixed(x)}" y="${fixed(above ? y - 9 : y + 17)}" text-anchor="middle" fill="${stroke}" font-size="10.5" class="point-label">${escapeHtml(point.label)}</text>`);
    }
    parts.push("</g>");
  });

  if (showLegend) {
    series.forEach((line, index) => {
      const y = MARGIN.top - 4 + index * LEGEND_ROW;
      parts.push(
        `<g class="legend-entry"><line x1="${plot.left}" y1="${y}" x2="${plot.left + 22}" y2="${y}" stroke="${color(index)}" stroke-width="2"/>${marker(index, plot.left + 11, y, color(index))}`,
        `<text x="${plot.left + 30}" y="${y + 4}" fill="#222" font-size="12">${escapeHtml(line.label)}</text></g>`,
      );
    });
  }
  parts.push("</svg>");
  return parts.join("\n");
}

function gridAndAxes(xAxis: Axis, yAxis: Axis, plot: { left: number; top: number; right: number; bottom: number }, xAt: (at: number) => number, py: (y: number) => number): string[] {
  const parts: string[] = [];
  for (const tick of yAxis.ticks) {
    const y = fixed(py(tick.at));
    parts.push(`<line x1="${plot.left}" y1="${y}" x2="${plot.right}" y2="${y}" stroke="#e4e4e4" stroke-width="1"/>`);
    parts.push(`<text x="${plot.left - 8}" y="${y}" dy="0.35em" text-anchor="end" fill="#555">${escapeHtml(tick.label)}</text>`);
  }
  for (const tick of xAxis.ticks) {
    const x = fixed(xAt(tick.at));
    parts.push(`<line x1="${x}" y1="${plot.bottom}" x2="${x}" y2="${plot.bottom + 5}" stroke="#777" stroke-width="1"/>`);
    parts.push(`<text x="${x}" y="${plot.bottom + 18}" text-anchor="middle" fill="#555">${escapeHtml(tick.label)}</text>`);
  }
  parts.push(`<rect x="${plot.left}" y="${plot.top}" width="${plot.right - plot.left}" height="${plot.bottom - plot.top}" fill="none" stroke="#bbb" stroke-width="1"/>`);
  return parts;
}

/** Circle, square, triangle, diamond, … by series: shape as well as colour tells runs apart. */
function marker(index: number, x: number, y: number, fill: string): string {
  const attributes = `fill="${fill}" stroke="#fff" stroke-width="1.2"`;
  switch (index % 4) {
    case 1:
      return `<rect x="${fixed(x - 4)}" y="${fixed(y - 4)}" width="8" height="8" ${attributes}/>`;
    case 2:
      return `<polygon points="${fixed(x)},${fixed(y - 5)} ${fixed(x + 5)},${fixed(y + 4)} ${fixed(x - 5)},${fixed(y + 4)}" ${attributes}/>`;
    case 3:
      return `<polygon points="${fixed(x)},${fixed(y - 5.5)} ${fixed(x + 5.5)},${fixed(y)} ${fixed(x)},${fixed(y + 5.5)} ${fixed(x - 5.5)},${fixed(y)}" ${attributes}/>`;
    default:
      return `<circle cx="${fixed(x)}" cy="${fixed(y)}" r="4.5" ${attributes}/>`;
  }
}

function fixed(value: number): string {
  return value.toFixed(1);
}
