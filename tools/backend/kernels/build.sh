#!/usr/bin/env bash
# npm run build:kernels — compiles training-kernels.c into training-kernels.wasm and records the
# hashes of both in build.json (a test checks the committed binary against them). Needs Debian's
# clang and lld (apt-get install clang lld); a fresh clone trains on the committed binary.
set -euo pipefail
cd "$(dirname "$0")"
FLAGS=(--target=wasm32 -O3 -msimd128 -matomics -mbulk-memory -nostdlib -fno-builtin -Wall -Wextra -Werror
  -Wl,--no-entry -Wl,--import-memory -Wl,--shared-memory -Wl,--max-memory=4294967296
  -Wl,--initial-memory=131072 -Wl,-z,stack-size=0 -Wl,--strip-debug)
clang "${FLAGS[@]}" -o training-kernels.wasm training-kernels.c
# The module shares the tfjs heap: it must own no data and never move a stack pointer.
if llvm-objdump-14 -d training-kernels.wasm 2>/dev/null | grep -q 'global\.'; then
  echo "training-kernels.wasm uses a global (a stack or static data): not safe on a shared heap" >&2; exit 1
fi
node -e '
const { createHash } = require("node:crypto"); const { readFileSync, writeFileSync } = require("node:fs");
const sha = (f) => createHash("sha256").update(readFileSync(f)).digest("hex");
writeFileSync("build.json", JSON.stringify({
  source: "training-kernels.c", sourceSha256: sha("training-kernels.c"),
  wasm: "training-kernels.wasm", wasmSha256: sha("training-kernels.wasm"),
  compiler: process.argv[1], flags: process.argv.slice(2),
}, null, 2) + "\n");' "$(clang --version | head -1)" "${FLAGS[@]}"
echo "built training-kernels.wasm ($(wc -c < training-kernels.wasm) bytes)"
