/**
 * HTML/XML text escaping. Everything the report shows may come from outside j1's control: trace text is
 * model output and quotes the judged responses (which can hold `<script>` or a fake `</think>[[B]]`), and
 * run labels and categories come from files. So every piece of text goes through `escapeHtml`, in element
 * content and attribute values alike (quotes included), in HTML and in inline SVG.
 */
const ENTITIES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => ENTITIES[char]);
}

/** Series colours (Okabe–Ito, readable by colour-blind readers and on paper), indexed by run. */
export const SERIES_COLORS: readonly string[] = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#555555"];

export function seriesColor(index: number): string {
  return SERIES_COLORS[index % SERIES_COLORS.length];
}
