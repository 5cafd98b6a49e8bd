import type { Llama, LlamaContext, LlamaContextSequence, LlamaModel, Token } from "node-llama-cpp";
import os from "node:os";
import { J1Error, errorMessage } from "../../core/errors.js";
import { detectSpacePrefix, promptPieces, tokenizePieces, type PieceTokenizer, type PieceVocabulary } from "../../core/prompt-pieces.js";
import type { PromptSegment } from "../../core/template.js";
import { readGgufVocabulary, type GgufVocabulary } from "../gguf-vocabulary.js";
import type { Engine, EngineCapabilities, EngineDescription, EngineSession, EngineWarning, ModelChatTemplate, OpenOptions } from "../engine.js";
import { sequenceOrderStrategy } from "./batch-order.js";
import { getRuntime, runtimeBinding } from "./llama-runtime.js";
import { LlamaCppSession } from "./llamacpp-session.js";
import { resolveModel, type ResolveModelOptions } from "./model-source.js";
import { SAMPLING_RACE_ADVICE, samplersSerialised } from "./sampling-threads.js";
import { SequencePool } from "./sequence-pool.js";

export interface LlamaCppEngineOptions extends ResolveModelOptions {
  /** A GGUF path, an hf: URI, or "tiny". */
  model: string;
  /** CPU threads for evaluation. Always set: llama.cpp's default crawls on small machines. */
  threads?: number;
  /** Tokens per sequence. */
  contextSize?: number;
  /** Parallel sequences in the one context (samples and items run side by side, batched). */
  sequences?: number;
  /** Batch size for prompt evaluation. */
  batchSize?: number;
}

/** Far above any real text's average (about 4 for English on BPE vocabularies). */
const MAX_CHARS_PER_TOKEN = 16;

/**
 * One core is left for Node itself (tokenizing, the event loop, progress): on a 2-core machine one
 * evaluation thread measured several times faster than two while anything else ran.
 */
export function defaultThreads(): number {
  return Math.max(1, Math.min(8, os.availableParallelism() - 1));
}

/**
 * llama.cpp in-process through node-llama-cpp: one model, one context with N sequences, lent out one per
 * session. Created by `createLlamaCppEngine`, freed by `dispose()` (idempotent; waits for open sessions'
 * work to settle before freeing native memory, the source of node-llama-cpp's known disposal crashes).
 */
export class LlamaCppEngine implements Engine {
  readonly name = "llamacpp";
  readonly capabilities: EngineCapabilities;
  private readonly pool: SequencePool;
  private disposed = false;
  private readonly open_ = new Set<LlamaCppSession>();
  readonly warnings: EngineWarning[] = [];

  private constructor(
    private readonly llama: Llama,
    readonly model: LlamaModel,
    private readonly context: LlamaContext,
    sequences: LlamaContextSequence[],
    private readonly description: EngineDescription,
    private readonly gguf: GgufVocabulary,
    /** The piece rule's view of this model's vocabulary (the same a server serving the file gets). */
    readonly vocabulary: PieceVocabulary,
  ) {
    this.pool = new SequencePool(sequences);
    // node-llama-cpp 3.21.1 cannot copy a sequence's cache to another (no llama_memory_seq_cp): a prompt is
    // shared by samples that follow each other on the sequence holding it (open() prefers that sequence).
    this.capabilities = { grammar: true, probabilities: true, tokenLevelInjection: true, parallelSessions: sequences.length, promptSharing: "sequential" };
    if (sequences.length > 1 && !samplersSerialised()) {
      this.warnings.push({ type: "other", message: `${sequences.length} sequences batched with UV_THREADPOOL_SIZE=${process.env.UV_THREADPOOL_SIZE ?? "unset (4 threads)"}: ${SAMPLING_RACE_ADVICE}` });
    }
  }

  static async create(options: LlamaCppEngineOptions): Promise<LlamaCppEngine> {
    const source = await resolveModel(options.model, options);
    const llama = await getRuntime();
    let model: LlamaModel;
    try {
      model = await llama.loadModel({ modelPath: source.path });
    } catch (error) {
      throw new J1Error("model-load", `${source.path}: cannot load the model (${errorMessage(error)}). Is it a GGUF file?`, { context: { file: source.path }, cause: error });
    }
    const sequenceCount = Math.max(1, Math.min(256, options.sequences ?? 1));
    const threads = options.threads ?? defaultThreads();
    const contextSize = Math.min(options.contextSize ?? 8192, model.trainContextSize);
    let context: LlamaContext | undefined;
    try {
      // Batches go to llama.cpp whole and in sequence id order, so its per-sequence KV split makes one pass over the weights, not one per run of ids (batch-order.ts).
      const batching = { itemPrioritizationStrategy: sequenceOrderStrategy(() => context) };
      context = await model.createContext({ contextSize, sequences: sequenceCount, threads, batchSize: options.batchSize ?? 512, batching });
    } catch (error) {
      await model.dispose();
      throw new J1Error("model-load", `cannot create a context of ${contextSize} tokens x ${sequenceCount} sequences: ${errorMessage(error)}. Try a smaller --context-size or fewer parallel sequences.`, { cause: error });
    }
    const sequences: LlamaContextSequence[] = [];
    for (let index = 0; index < sequenceCount; index++) sequences.push(context.getSequence());
    // Which binary runs (prebuilt or the native local build; llama-runtime.ts), as node-llama-cpp loaded it.
    const description: EngineDescription = { engine: "llamacpp", model: options.model === "tiny" || options.model === "tiny-controlled" ? options.model : source.path, modelFile: source.path, threads, contextSize, sequences: sequenceCount, ...runtimeBinding() };
    // The GGUF's added tokens (what judged text must not match) and whether its tokenizer puts a space
    // before every separately tokenized text: read once, as a server serving the same file reads them.
    const gguf = await readGgufVocabulary(source.path);
    const tokenizer: PieceTokenizer = { tokenize: (text, parseSpecial) => model.tokenize(text, parseSpecial) };
    const vocabulary: PieceVocabulary = { addedTokens: gguf.addedTokens, spacePrefix: await detectSpacePrefix(tokenizer) };
    return new LlamaCppEngine(llama, model, context, sequences, description, gguf, vocabulary);
  }

  describe(): EngineDescription {
    return { ...this.description };
  }

  async countTokens(text: string): Promise<number> {
    return this.model.tokenize(text, false).length;
  }

  /**
   * Prompt tokens by the piece rule (core/prompt-pieces.ts): trusted scaffolding may hold special tokens,
   * judged text never does, and a server tokenizing the same pieces gets the same ids. BOS is added when
   * the model asks for it, unless the rendered template already begins with it.
   */
  async tokenizePrompt(prompt: readonly PromptSegment[]): Promise<Token[]> {
    const tokenizer: PieceTokenizer = { tokenize: (text, parseSpecial) => this.model.tokenize(text, parseSpecial) };
    const tokens = (await tokenizePieces(promptPieces(prompt, this.vocabulary), tokenizer, this.vocabulary)) as Token[];
    const bos = this.model.tokens.bos;
    if (this.model.tokens.shouldPrependBosToken && bos !== null && tokens[0] !== bos) tokens.unshift(bos);
    return tokens;
  }

  async chatTemplate(): Promise<ModelChatTemplate | undefined> {
    const tokenizer = (this.model.fileInfo.metadata as { tokenizer?: { chat_template?: unknown } }).tokenizer;
    const template = tokenizer?.chat_template;
    if (typeof template !== "string" || template.length === 0) return undefined;
    const text = (token: Token | null) => (token === null ? undefined : this.model.detokenize([token], true));
    return { template, bosToken: text(this.model.tokens.bos), eosToken: text(this.model.tokens.eos), source: "the GGUF's tokenizer.chat_template" };
  }

  async architecture(): Promise<string | undefined> {
    return this.gguf.architecture;
  }

  async open(prompt: readonly PromptSegment[], options: OpenOptions = {}): Promise<EngineSession> {
    if (this.disposed) throw new J1Error("engine", "engine is disposed");
    const contextSize = this.context.contextSize;
    // Before tokenizing: a text this long cannot fit whatever its tokens (no vocabulary averages more
    // than MAX_CHARS_PER_TOKEN characters a token on real text), and tokenizing it would hold the
    // process for seconds, deaf to Ctrl-C.
    const characters = prompt.reduce((sum, segment) => sum + segment.text.length, 0);
    if (characters > contextSize * MAX_CHARS_PER_TOKEN) {
      throw new J1Error("engine", `the prompt has ${characters.toLocaleString("en")} characters, more than a context of ${contextSize} tokens can hold; raise --context-size or shorten the input`, { context: { promptCharacters: characters, contextSize } });
    }
    const tokens = await this.tokenizePrompt(prompt);
    const room = this.context.contextSize - 64;
    if (tokens.length > room) {
      throw new J1Error("engine", `the prompt has ${tokens.length} tokens but the context holds ${this.context.contextSize}; raise --context-size or shorten the input`, { context: { promptTokens: tokens.length } });
    }
    const sequence = await this.pool.acquire(options.signal, (candidate) => sharedPrefix(candidate.contextTokens, tokens));
    try {
      // Reuse the longest cached prefix; at least one prompt token stays to be fed, for the first logits.
      const keep = Math.min(sharedPrefix(sequence.contextTokens, tokens), tokens.length - 1);
      if (keep < sequence.nextTokenIndex) await sequence.eraseContextTokenRanges([{ start: keep, end: sequence.nextTokenIndex }]);
      const session: LlamaCppSession = new LlamaCppSession({
        llama: this.llama,
        model: this.model,
        sequence,
        promptTokens: tokens.length,
        cachedTokens: keep,
        pending: tokens.slice(keep),
        vocabulary: this.vocabulary,
        release: () => {
          this.open_.delete(session);
          this.pool.release(sequence);
        },
      });
      this.open_.add(session);
      return session;
    } catch (error) {
      this.pool.release(sequence);
      throw error;
    }
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await Promise.all([...this.open_].map((session) => session.close()));
    await this.context.dispose();
    await this.model.dispose();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.dispose();
  }
}

function sharedPrefix(a: readonly Token[], b: readonly Token[]): number {
  const length = Math.min(a.length, b.length);
  let index = 0;
  while (index < length && a[index] === b[index]) index++;
  return index;
}

export function createLlamaCppEngine(options: LlamaCppEngineOptions): Promise<LlamaCppEngine> {
  return LlamaCppEngine.create(options);
}
