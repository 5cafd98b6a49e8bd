#!/usr/bin/env bash
# SFT of a thinking judge on j1's reflection-enhanced traces, with OpenRLHF.
#
# NOT RUN HERE: OpenRLHF needs NVIDIA GPUs (DeepSpeed); this script was written against OpenRLHF's
# argument parser (openrlhf/cli/train_sft.py, v0.10.2+ dotted flags, checked at v0.11.0) and never
# executed in j1's CI. The hyperparameters are starting points, not the J1 paper's (which are not public
# in full): J1 fine-tuned Qwen2.5-7B (base) on J1-SFT-53K.
#
# Input: the OpenRLHF export of `j1 data sft` with its default `--openrlhf-input text`, i.e. JSONL rows
#   {"input": <judge prompt rendered by j1, chat format included, up to the assistant header>,
#    "output": "<think>\n...</think>\n[[A]]", ...}
#
#   ./bin/j1 data sft --input pairs.jsonl --base-url http://127.0.0.1:8000/v1 --model teacher \
#       --require-reflection --format openrlhf --output sft.jsonl
#
# Two details matter:
#   --data.input_template "{}"   OpenRLHF's SFT default template is "User: {}\nAssistant: ", which would
#                                wrap j1's already templated prompt; "{}" leaves it as it is.
#   no --data.apply_chat_template   the prompt is already rendered (ChatML by default, matching Qwen).
# With `j1 data sft --openrlhf-input messages`, drop the input template and add --data.apply_chat_template.
#
# Usage: recipes/openrlhf/train_sft.sh [sft.jsonl] [output dir]
set -euo pipefail

SFT_DATA=${1:-${SFT_DATA:-./sft.jsonl}}
OUTPUT_DIR=${2:-${OUTPUT_DIR:-./checkpoints/j1-sft-qwen2.5-7b}}
BASE_MODEL=${BASE_MODEL:-Qwen/Qwen2.5-7B}
MAX_LEN=${MAX_LEN:-8192}          # prompt (two responses) + thinking + verdict, in tokens
GPUS=${GPUS:-8}

ARGS=(
  --model.model_name_or_path "$BASE_MODEL"
  --data.dataset "$SFT_DATA"
  --data.input_key input
  --data.output_key output
  --data.input_template "{}"
  --data.max_len "$MAX_LEN"
  --train.batch_size 128
  --train.micro_batch_size 1
  --train.max_epochs 2
  --adam.lr 1e-5
  --lr_warmup_ratio 0.03
  --ds.zero_stage 3
  --ds.param_dtype bf16
  --ds.attn_implementation flash_attention_2
  --ds.packing_samples
  --model.gradient_checkpointing_enable
  --ckpt.output_dir "$OUTPUT_DIR"
  --ckpt.save_hf
  --ckpt.save_steps -1
  --logger.logging_steps 1
  --eval.steps -1
)

# Older OpenRLHF (before v0.10.2) takes flat flags instead:
#   --pretrain "$BASE_MODEL" --dataset "$SFT_DATA" --input_key input --output_key output
#   --input_template "{}" --max_len "$MAX_LEN" --train_batch_size 128 --micro_train_batch_size 1
#   --max_epochs 2 --learning_rate 1e-5 --zero_stage 3 --param_dtype bf16
#   --attn_implementation flash_attention_2 --packing_samples --gradient_checkpointing
#   --save_path "$OUTPUT_DIR" --save_steps -1 --logging_steps 1 --eval_steps -1

deepspeed --num_gpus "$GPUS" --module openrlhf.cli.train_sft "${ARGS[@]}"
