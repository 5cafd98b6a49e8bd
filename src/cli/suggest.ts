/** The suggested-command helpers, for the CLI (they live in core/shell-quote.ts, shared with eval and the server). */
export { shellQuote, storeFlag } from "../core/shell-quote.js";
