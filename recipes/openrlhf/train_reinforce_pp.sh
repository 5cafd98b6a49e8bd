#!/usr/bin/env bash
# RL of the SFT'd judge with REINFORCE++ and j1's verifiable reward, with OpenRLHF (Ray + vLLM).
#
# NOT RUN HERE: OpenRLHF needs NVIDIA GPUs, Ray and vLLM; this script was written against OpenRLHF's
# argument parser (openrlhf/cli/train_ppo_ray.py, v0.10.2+ dotted flags, checked at v0.11.0) and never
# executed in j1's CI. Hyperparameters are starting points, not the J1 paper's.
#
# What it wires together:
#   prompts  `j1 data rl --openrlhf rl.jsonl`: {"input": <templated judge prompt ending in "<think>\n">,
#            "label": "A"|"B"}, both orders of every pair, as many A as B labels.
#   reward   `j1 reward serve` (run it first, on a host the Ray workers can reach):
#            OpenRLHF posts {"query": [prompt+response text], "prompts": [prompt], "labels": [label]} to
#            --reward.remote_url and reads {"rewards", "scores", "extra_logs"}. The reward is 1 for a
#            well-formed right verdict, 0 otherwise (see `j1 reward serve --help` for weights and rules);
#            extra_logs adds format, correct and thinking_chars to the trainer's logs.
#
#   ./bin/j1 data rl --input pairs.jsonl --openrlhf rl.jsonl
#   ./bin/j1 reward serve --host 0.0.0.0 --port 8765 --token "$J1_REWARD_TOKEN" &
#   recipes/openrlhf/train_reinforce_pp.sh rl.jsonl ./checkpoints/j1-sft-qwen2.5-7b
#
# Notes:
#   - No --data.apply_chat_template: j1 already rendered the prompt (ChatML by default, with the
#     "<think>\n" prefill). --data.input_template stays unset (its default here is none).
#   - OpenRLHF's HTTP client sends no headers, so a token goes in the URL: .../get_reward?token=...
#   - The client retries 5 times (1 s apart, 180 s timeout per try), one sample per request.
#   - The consistency term (`j1 reward serve --consistency`) needs both orders of a pair in one request;
#     OpenRLHF sends one sample per request, so it does not apply here.
#   - --reward.remote_url also accepts a .py file with reward_func(queries, prompts, labels); j1's
#     service is the one definition shared with verl, so prefer the URL.
#
# Usage: recipes/openrlhf/train_reinforce_pp.sh [rl.jsonl] [sft checkpoint] [output dir]
set -euo pipefail

RL_DATA=${1:-${RL_DATA:-./rl.jsonl}}
SFT_MODEL=${2:-${SFT_MODEL:-./checkpoints/j1-sft-qwen2.5-7b}}
OUTPUT_DIR=${3:-${OUTPUT_DIR:-./checkpoints/j1-rl-qwen2.5-7b}}
REWARD_URL=${REWARD_URL:-http://127.0.0.1:8765/get_reward}
if [[ -n "${J1_REWARD_TOKEN:-}" ]]; then REWARD_URL="${REWARD_URL}?token=${J1_REWARD_TOKEN}"; fi
GPUS_PER_NODE=${GPUS_PER_NODE:-8}

# The reward service must be up before Ray starts rolling out.
curl -fsS "${REWARD_URL%%/get_reward*}/health" > /dev/null || { echo "j1 reward service not reachable at ${REWARD_URL%%/get_reward*}; start: j1 reward serve" >&2; exit 1; }

ARGS=(
  # models and placement
  --actor.model_name_or_path "$SFT_MODEL"
  --actor.num_nodes 1 --actor.num_gpus_per_node "$GPUS_PER_NODE"
  --ref.num_nodes 1 --ref.num_gpus_per_node "$GPUS_PER_NODE"
  --vllm.num_engines 4 --vllm.tensor_parallel_size 2 --vllm.gpu_memory_utilization 0.6
  --train.colocate_all --vllm.enable_sleep --ds.enable_sleep

  # data: j1's templated prompts and their labels
  --data.prompt_dataset "$RL_DATA"
  --data.input_key input
  --data.label_key label
  --data.max_len 10240
  --rollout.max_new_tokens 4096

  # reward: j1's verifiable judge reward
  --reward.remote_url "$REWARD_URL"

  # REINFORCE++ (no critic): global advantage normalisation, KL to the reference
  --algo.advantage.estimator reinforce
  --algo.kl.init_coef 1e-3
  --algo.kl.estimator k2
  --algo.kl.use_loss
  --actor.adam.lr 5e-7
  --rollout.n_samples_per_prompt 4
  --rollout.batch_size 128
  --rollout.micro_batch_size 4
  --rollout.temperature 1.0
  --train.batch_size 128
  --train.micro_batch_size 1
  --train.max_epochs 1
  --train.num_episodes 1

  # engine
  --ds.zero_stage 3
  --ds.param_dtype bf16
  --ds.attn_implementation flash_attention_2
  --ds.packing_samples
  --actor.gradient_checkpointing_enable

  # checkpoints and logs
  --ckpt.output_dir "$OUTPUT_DIR"
  --ckpt.save_hf
  --ckpt.save_steps 50
  --logger.logging_steps 1
  --logger.tensorboard_dir "$OUTPUT_DIR/runs"
  --eval.steps -1
)

# Older OpenRLHF (before v0.10.2) takes flat flags instead; the j1-specific ones are:
#   --pretrain "$SFT_MODEL" --prompt_data "$RL_DATA" --input_key input --label_key label
#   --remote_rm_url "$REWARD_URL" --advantage_estimator reinforce
#   --init_kl_coef 1e-3 --kl_estimator k2 --use_kl_loss --actor_learning_rate 5e-7
#   --n_samples_per_prompt 4 --rollout_batch_size 128 --micro_rollout_batch_size 4
#   --train_batch_size 128 --micro_train_batch_size 1 --max_len 10240 --max_new_tokens 4096
#   --actor_num_nodes 1 --actor_num_gpus_per_node 8 --ref_num_nodes 1 --ref_num_gpus_per_node 8
#   --vllm_num_engines 4 --vllm_tensor_parallel_size 2 --colocate_all_models --vllm_enable_sleep
#   --deepspeed_enable_sleep --zero_stage 3 --param_dtype bf16 --attn_implementation flash_attention_2
#   --packing_samples --gradient_checkpointing --save_path "$OUTPUT_DIR" --save_hf_ckpt

ray job submit --address="${RAY_ADDRESS:-http://127.0.0.1:8265}" -- python3 -m openrlhf.cli.train_ppo_ray "${ARGS[@]}"
