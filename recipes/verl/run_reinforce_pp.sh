#!/usr/bin/env bash
# RL of the SFT'd judge with REINFORCE++ and j1's verifiable reward, with verl (Ray + vLLM + FSDP).
#
# NOT RUN HERE: verl needs NVIDIA GPUs; this script follows verl's own REINFORCE++ example
# (examples/reinforce_plus_plus_trainer/run_qwen3_8b_fsdp.sh) and config (verl/trainer/config/, checked
# at verl-project/verl main, 2026-08) and was never executed in j1's CI. Hyperparameters are starting
# points, not the J1 paper's.
#
# What it wires together:
#   data     `j1 data rl --verl rl.parquet`: columns data_source, prompt (system + user messages, which
#            verl renders with the model's chat template), ability, reward_model {style: rule,
#            ground_truth: "A"|"B"}, extra_info {index, id, pair_id, order, category, split}.
#   reward   `j1 reward verl --output j1_reward.py --url http://HOST:8765` writes compute_score(), which
#            verl imports (reward.custom_reward_function.path) and calls once per response; it posts to
#            `j1 reward serve` (POST /score) and returns {"score", "correct", "format"}.
#
#   ./bin/j1 data rl --input pairs.jsonl --verl rl.parquet
#   ./bin/j1 data rl --input heldout-pairs.jsonl --verl rl-val.parquet --split val
#   ./bin/j1 reward serve --host 0.0.0.0 --port 8765 &
#   ./bin/j1 reward verl --url http://$(hostname):8765 --output "$PWD/j1_reward.py"
#   recipes/verl/run_reinforce_pp.sh rl.parquet rl-val.parquet ./checkpoints/j1-sft-qwen2.5-7b
#
# Notes:
#   - The generated file must sit at a path every Ray worker can read (an absolute path on shared disk).
#   - The URL is baked into the file (J1_REWARD_URL overrides it). With `j1 reward serve --token`, the
#     workers need J1_REWARD_TOKEN in their environment: export it before Ray starts (a local ray.init
#     passes the driver's environment on), or add
#       +ray_kwargs.ray_init.runtime_env.env_vars.J1_REWARD_TOKEN=...
#   - The prompt has no "<think>" prefill under verl (the chat template ends the prompt); the model writes
#     "<think>" itself or starts thinking directly: the reward accepts both (--opening-tag auto).
#   - Older verl releases (before the reward config refactor of 2026-02) take top-level
#     custom_reward_function.path / custom_reward_function.name instead of reward.custom_reward_function.*.
#   - verl's reward calls are per response, so the consistency term does not apply here either.
#
# Usage: recipes/verl/run_reinforce_pp.sh [train.parquet] [val.parquet] [sft checkpoint]
set -euo pipefail

TRAIN_FILE=${1:-${TRAIN_FILE:-$PWD/rl.parquet}}
VAL_FILE=${2:-${VAL_FILE:-$PWD/rl-val.parquet}}
SFT_MODEL=${3:-${SFT_MODEL:-$PWD/checkpoints/j1-sft-qwen2.5-7b}}
REWARD_FILE=${REWARD_FILE:-$PWD/j1_reward.py}
NGPUS_PER_NODE=${NGPUS_PER_NODE:-8}
NNODES=${NNODES:-1}

[[ -f "$REWARD_FILE" ]] || { echo "no reward file at $REWARD_FILE; write it with: j1 reward verl --output $REWARD_FILE" >&2; exit 1; }

ARGS=(
  # REINFORCE++ (no critic): global advantage normalisation; KL to the reference in the reward
  algorithm.adv_estimator=reinforce_plus_plus
  algorithm.use_kl_in_reward=True

  # data: j1's judge prompts (both orders of every pair, balanced labels)
  data.train_files="['$TRAIN_FILE']"
  data.val_files="['$VAL_FILE']"
  data.prompt_key=prompt
  data.train_batch_size=256
  data.max_prompt_length=6144
  data.max_response_length=4096
  data.filter_overlong_prompts=True
  data.truncation=error

  # reward: j1's verifiable judge reward, through the generated client
  reward.custom_reward_function.path="$REWARD_FILE"
  reward.custom_reward_function.name=compute_score

  # model and actor
  actor_rollout_ref.model.path="$SFT_MODEL"
  actor_rollout_ref.model.use_remove_padding=True
  actor_rollout_ref.model.enable_gradient_checkpointing=True
  actor_rollout_ref.actor.optim.lr=5e-7
  actor_rollout_ref.actor.ppo_mini_batch_size=256
  actor_rollout_ref.actor.use_dynamic_bsz=True
  actor_rollout_ref.actor.ppo_max_token_len_per_gpu=24576
  actor_rollout_ref.actor.use_kl_loss=False
  actor_rollout_ref.actor.entropy_coeff=0

  # rollout
  actor_rollout_ref.rollout.name=vllm
  actor_rollout_ref.rollout.tensor_model_parallel_size=2
  actor_rollout_ref.rollout.gpu_memory_utilization=0.6
  actor_rollout_ref.rollout.n=4
  actor_rollout_ref.rollout.log_prob_use_dynamic_bsz=True
  actor_rollout_ref.rollout.log_prob_max_token_len_per_gpu=24576
  actor_rollout_ref.ref.log_prob_use_dynamic_bsz=True
  actor_rollout_ref.ref.log_prob_max_token_len_per_gpu=24576
  actor_rollout_ref.ref.fsdp_config.param_offload=True

  # trainer
  trainer.critic_warmup=0
  trainer.logger='["console"]'
  trainer.project_name=j1
  trainer.experiment_name=j1-reinforce-pp
  trainer.n_gpus_per_node="$NGPUS_PER_NODE"
  trainer.nnodes="$NNODES"
  trainer.save_freq=50
  trainer.test_freq=25
  trainer.total_epochs=1
)

python3 -m verl.trainer.main_ppo "${ARGS[@]}" "$@"
