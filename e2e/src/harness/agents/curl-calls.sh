#!/bin/sh
# An agent with no API key, in shell: the same two calls with curl, one JSON line each.
set -eu
repo=https://api.github.com/repos/acme/widgets
for pair in read:GET delete:DELETE; do
  call=${pair%%:*}
  method=${pair#*:}
  body=$(mktemp)
  meta=$(curl -sS -X "$method" -H 'user-agent: tf-e2e-agent' -o "$body" -w '%{http_code} %{content_type}' "$repo")
  printf '{"call":"%s","status":%s,"contentType":"%s","body":%s}\n' "$call" "${meta%% *}" "${meta#* }" "$(cat "$body")"
  rm -f "$body"
done
