#!/bin/bash
# Spark's GPU discovery contract: print {"name": "gpu", "addresses": [...]} with the visible GPU indexes.
# Without nvidia-smi (no driver mounted) the list is empty, still valid JSON, so Spark reports no GPUs
# instead of failing to parse.
set -euo pipefail
addresses=""
if command -v nvidia-smi >/dev/null 2>&1; then
  while read -r index; do
    [ -n "$index" ] && addresses+="${addresses:+,}\"${index}\""
  done < <(nvidia-smi --query-gpu=index --format=csv,noheader)
fi
printf '{"name": "gpu", "addresses": [%s]}\n' "$addresses"
