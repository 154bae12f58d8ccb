#!/usr/bin/env bash
# Fails when a folder of src/ (or include/ssecast/) includes a header it must not see: the layers
# run one way (see src/CMakeLists.txt), storage never sees HTTP nor the hub, HTTP sees the broker
# (fanout/) but no backend, and nothing below app/ sees the daemon.
#   tests/architecture/layers.sh SOURCE_DIR
set -euo pipefail
root=${1:?usage: layers.sh SOURCE_DIR}

# folder -> the headers (prefixes under ssecast/) its files may include besides its own
declare -A allowed=(
  [core]=""
  [metrics]=""
  [auth]="core/"
  [config]="auth/channel_pattern.hpp"
  [sse]="sse/ fanout/broker.hpp fanout/subscriber.hpp config/ metrics/ core/"
  [backend]="core/ sse/sse_frame.hpp metrics/"
  [fanout]="backend/storage.hpp core/ sse/sse_frame.hpp"
  [http]="sse/ core/ fanout/broker.hpp fanout/subscriber.hpp config/ metrics/ auth/"
  [app]="app/ http/ sse/ core/ backend/ fanout/ config/ metrics/ auth/"
)

violations=0
for folder in "${!allowed[@]}"; do
  for dir in "$root/src/$folder" "$root/include/ssecast/$folder"; do
    [ -d "$dir" ] || continue
    while IFS=: read -r file line text; do
      header=$(sed -E 's/.*#include "ssecast\/([^"]+)".*/\1/' <<<"$text")
      [[ $header == "$folder/"* || $header == version.hpp ]] && continue
      ok=0
      for prefix in ${allowed[$folder]}; do
        [[ $header == "$prefix"* ]] && ok=1
      done
      if ((!ok)); then
        echo "layers: ${file#"$root"/}:$line includes ssecast/$header, which $folder/ must not see" >&2
        violations=$((violations + 1))
      fi
    done < <(grep -rnE '#include "ssecast/' "$dir" || true)
  done
done
if ((violations)); then
  echo "layers: FAIL: $violations include(s) against the layering" >&2
  exit 1
fi
echo "layers: every include follows the layering"
