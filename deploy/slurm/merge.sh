#!/bin/bash
# Joins the shards deploy/slurm/simulate-array.sh wrote for array job ARRAY_JOB_ID into
# runs/ARRAY_JOB_ID and checks the run. Submit it to start once every task has succeeded:
#
#   sbatch --dependency=afterok:$array deploy/slurm/merge.sh $array
#
#SBATCH --job-name=clocklab-merge
#SBATCH --ntasks=1
#SBATCH --cpus-per-task=1
#SBATCH --time=00:30:00
#SBATCH --output=clocklab-merge-%j.out
set -euo pipefail

clocklab=${CLOCKLAB:-clocklab}
array=${1:?usage: merge.sh ARRAY_JOB_ID (the job id sbatch gave the array)}

shopt -s nullglob
shards=(shards/"$array"/*-shard-*)
if [ ${#shards[@]} -eq 0 ]; then
    echo "merge.sh: no shard directories under shards/$array" >&2
    exit 1
fi
"$clocklab" merge "${shards[@]}" --out "runs/$array"
"$clocklab" check "runs/$array"
