#!/bin/bash
# One shard of a clocklab simulation per task of a Slurm job array; deploy/slurm/merge.sh joins
# them once every task has ended. Submit from the directory the results go under:
#
#   array=$(sbatch --parsable deploy/slurm/simulate-array.sh)
#   sbatch --dependency=afterok:$array deploy/slurm/merge.sh $array
#
# Each task runs `clocklab simulate --shard auto/N`: its shard is SLURM_ARRAY_TASK_ID counted
# from SLURM_ARRAY_TASK_MIN, and N is SLURM_ARRAY_TASK_COUNT, so the array must be a range with
# step 1 (1-N or 0-(N-1)); change --array to change the number of shards. The run's options
# come from the environment (SEED, TRIALS, DURATION; sbatch passes the submitting shell's
# environment on) and any further `simulate` options from the arguments after the script's name.
# Every shard writes under shards/<array job id>/, the same --out for all, as merge requires.
#
#SBATCH --job-name=clocklab-shard
#SBATCH --array=1-4
#SBATCH --ntasks=1
#SBATCH --cpus-per-task=4
#SBATCH --time=01:00:00
#SBATCH --output=clocklab-%A_%a.out
set -euo pipefail

clocklab=${CLOCKLAB:-clocklab}
array=${SLURM_ARRAY_JOB_ID:?not in a Slurm job array: submit with sbatch (or set SLURM_ARRAY_JOB_ID, SLURM_ARRAY_TASK_ID and SLURM_ARRAY_TASK_COUNT by hand)}
shards=${SLURM_ARRAY_TASK_COUNT:?SLURM_ARRAY_TASK_COUNT is not set: submit with sbatch}

exec "$clocklab" simulate \
    --seed "${SEED:-1}" --trials "${TRIALS:-100}" --duration "${DURATION:-600}" \
    --out "shards/$array" --jobs "${SLURM_CPUS_PER_TASK:-1}" --shard "auto/$shards" "$@"
