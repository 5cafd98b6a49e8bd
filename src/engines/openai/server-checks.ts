import { J1Error } from "../../core/errors.js";
import type { ModelChatTemplate } from "../engine.js";
import { malformedAnswer, type HttpClient } from "./http-client.js";
import type { RequestShape } from "./completion-request.js";
import { readTokenIds, routeIsMissing, type ServerTokenizer } from "./server-tokenizer.js";

/** What llama-server's GET /props tells: the context per slot, the model's chat template and its file. */
export interface LlamaServerProps {
  contextSize?: number;
  /** Requests it serves at once (`-np`, reported as `total_slots`). */
  slots?: number;
  chatTemplate?: ModelChatTemplate;
  /** The served GGUF's path (on the server's machine). */
  modelPath?: string;
  /** The template is llama-server's built-in ChatML: the GGUF carries none (or the server was told "chatml"). */
  builtinTemplate?: boolean;
}

/**
 * llama-server's fallback when a GGUF has no chat template (common/chat.cpp, `CHATML_TEMPLATE_SRC`), as
 * /props reports it: recognised so that j1 treats such a model as it does in process, as having none.
 */
const LLAMA_SERVER_BUILTIN_CHATML =
  "{%- for message in messages -%}\n  {{- '<|im_start|>' + message.role + '\n' + message.content + '<|im_end|>\n' -}}\n{%- endfor -%}\n{%- if add_generation_prompt -%}\n  {{- '<|im_start|>assistant\n' -}}\n{%- endif -%}";

export async function readLlamaServerProps(client: HttpClient, root: string): Promise<LlamaServerProps> {
  const body = (await client.getJson(`${root}/props`)) as Record<string, unknown> | null;
  const settings = body?.default_generation_settings as { n_ctx?: unknown } | undefined;
  const props: LlamaServerProps = {};
  // n_ctx of the default settings is one slot's share (-c divided by -np).
  if (typeof settings?.n_ctx === "number") props.contextSize = settings.n_ctx;
  if (typeof body?.model_path === "string" && body.model_path.length > 0) props.modelPath = body.model_path;
  if (body?.chat_template === LLAMA_SERVER_BUILTIN_CHATML) props.builtinTemplate = true;
  if (typeof body?.total_slots === "number" && Number.isInteger(body.total_slots) && body.total_slots >= 1) props.slots = body.total_slots;
  if (typeof body?.chat_template === "string" && body.chat_template.length > 0) {
    props.chatTemplate = {
      template: body.chat_template,
      bosToken: typeof body.bos_token === "string" ? body.bos_token : undefined,
      eosToken: typeof body.eos_token === "string" ? body.eos_token : undefined,
      source: "llama-server /props",
    };
  }
  return props;
}

/**
 * The end-of-thinking text must come back as text, or budget forcing never sees the model end its
 * thinking. llama-server prints control-type tokens only when started with `--special`
 * (server-context.cpp: `accept_special_token`); user-defined ones (Qwen3's `</think>`) and plain text
 * always come back. So: when `thinkEnd` holds a token that special-token parsing creates (it tokenizes
 * differently with parsing off), that token is forced once (logit bias, one token) and the printed text
 * compared with the token's piece. Throws a bad-input error that says to restart with `--special`.
 */
export async function checkThinkEndVisible(client: HttpClient, root: string, tokenizer: ServerTokenizer, thinkEnd: string, bos: number | undefined): Promise<void> {
  const parsed = await tokenizer.tokenize(thinkEnd, true);
  const plain = await tokenizer.tokenize(thinkEnd, false);
  if (parsed.length === plain.length && parsed.every((id, index) => plain[index] === id)) return;
  const pieces = (await tokenizer.pieces(thinkEnd, true)) ?? parsed.map((id) => ({ id, piece: "" }));
  const plainIds = new Set(plain);
  for (const { id, piece } of pieces) {
    if (plainIds.has(id)) continue;
    const start = bos ?? plain[0] ?? id;
    const answer = await client.postJson(
      `${root}/completion`,
      { prompt: [start], n_predict: 1, temperature: 0, logit_bias: [[id, 1000]], return_tokens: true, response_fields: ["content", "tokens"] },
      {
        read: (json, url) => {
          const { content, tokens } = (json ?? {}) as { content?: unknown; tokens?: unknown };
          if (typeof content !== "string" || !Array.isArray(tokens)) throw malformedAnswer(url, json, "no content or tokens");
          return { content, tokens: tokens as number[] };
        },
      },
    );
    if (answer.tokens[0] === id && answer.content !== piece) {
      throw new J1Error(
        "bad-input",
        `llama-server does not print the end-of-thinking text "${thinkEnd}": it is the control token ${id}, and this server hides control tokens from its output, so j1 would never see the model end its thinking. Restart llama-server with --special`,
        { context: { thinkEnd, token: id, field: "thinkEnd" } },
      );
    }
  }
}

/** `</think>` → `<think>`; a delimiter of another shape has no known opening. */
function thinkStartFor(thinkEnd: string): string | undefined {
  const match = /^<\/(.+)>$/.exec(thinkEnd);
  return match ? `<${match[1]}>` : undefined;
}

/**
 * The chat fallback continues a partial assistant message. Templates with a thinking mode (Qwen3's)
 * rewrite that message: the thinking is split off at `</think>`, an empty `<think>\n\n</think>` is
 * written first, and the server then continues a text that is not the trace j1 recorded. This renders
 * a probe conversation (llama-server /apply-template; vLLM /tokenize with messages, then /detokenize)
 * and returns the problem when the render does not end with the partial message exactly as given, or
 * adds the end-of-thinking text before it; undefined when the template keeps it; "unchecked" when the
 * server offers no way to render.
 */
export async function chatTemplateProblem(client: HttpClient, shape: RequestShape, thinkEnd: string): Promise<string | undefined | "unchecked"> {
  const start = thinkStartFor(thinkEnd) ?? "";
  const partial = `${start}\nj1 template probe`;
  const messages = [
    { role: "user", content: "j1 probe question" },
    { role: "assistant", content: partial },
  ];
  let rendered: string;
  try {
    if (shape.flavor === "llama-server") {
      const body = await client.postJson(`${shape.root}/apply-template`, { messages, continue_final_message: true, add_generation_prompt: false, reasoning_format: "none" }, { retries: 1 });
      const prompt = (body as { prompt?: unknown } | null)?.prompt;
      if (typeof prompt !== "string") return "unchecked";
      rendered = prompt;
    } else if (shape.flavor === "vllm") {
      const tokens = await client.postJson(
        `${shape.root}/tokenize`,
        { model: shape.model, messages, continue_final_message: true, add_generation_prompt: false, add_special_tokens: false },
        { retries: 1, read: readTokenIds },
      );
      const body = await client.postJson(`${shape.root}/detokenize`, { model: shape.model, tokens }, { retries: 1 });
      const prompt = (body as { prompt?: unknown } | null)?.prompt;
      if (typeof prompt !== "string") return "unchecked";
      rendered = prompt;
    } else {
      return "unchecked";
    }
  } catch (error) {
    if (routeIsMissing(error)) return "unchecked";
    throw error;
  }
  const before = rendered.endsWith(partial) ? rendered.slice(0, rendered.length - partial.length) : undefined;
  if (before === undefined) return `it renders the partial assistant message ${JSON.stringify(partial)} as ${JSON.stringify(rendered.slice(-120))}`;
  if (before.includes(thinkEnd)) return `it writes ${JSON.stringify(thinkEnd)} before the partial assistant message (${JSON.stringify(before.slice(-80))}): the model would continue after an empty thinking block`;
  return undefined;
}
