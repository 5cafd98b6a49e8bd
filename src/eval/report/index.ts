/** Report renderers for `j1 report`: markdown, a self-contained HTML page, JSON and terminal text. */
export { renderMarkdown, markdownTable } from "./markdown.js";
export { renderHtml, type HtmlOptions } from "./html.js";
export { renderJson } from "./json.js";
export { renderTerminal } from "./terminal.js";
export { svgScalingCurve, type CurveSeries, type CurveOptions } from "./svg-curve.js";
export { traceHtml, type TraceHtmlOptions } from "./trace-html.js";
export { escapeHtml, SERIES_COLORS } from "./escape.js";
export { overallScore, scoreTable, trendSentence, worstItems, type ScoreTable, type ScoreRow } from "./summary.js";
