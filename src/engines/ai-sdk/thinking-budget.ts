/**
 * The provider's own thinking budget for j1's thinking cap (--max-thinking), by the AI SDK provider id
 * ("anthropic.messages", "google.generative-ai", "<name>.chat" for an OpenAI-compatible provider):
 *
 * - Anthropic: `thinking: { type: "enabled", budgetTokens }`.
 * - Google: `thinkingConfig: { thinkingBudget }`.
 * - OpenAI-compatible: `thinking_budget_tokens` in the request body, which llama-server honours for a
 *   model whose chat template has thinking tags (tools/server/server-common.cpp reads
 *   `reasoning_budget_tokens` or `thinking_budget_tokens`); a server that does not know it ignores it.
 * - OpenAI's own API has reasoning effort, not a token budget: none (the engine warns).
 */
export function nativeThinkingBudget(provider: string, tokens: number): { providerOptions: Record<string, Record<string, unknown>> } | undefined {
  const [family, api] = provider.split(".");
  if (family === "anthropic") return { providerOptions: { anthropic: { thinking: { type: "enabled", budgetTokens: tokens } } } };
  if (family === "google" || family === "vertex") return { providerOptions: { google: { thinkingConfig: { thinkingBudget: tokens } } } };
  if (api === "chat" && family !== "openai") return { providerOptions: { [family]: { thinking_budget_tokens: tokens } } };
  return undefined;
}
