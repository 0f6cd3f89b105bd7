#!/bin/sh
# Prints its arguments on stderr, one per line, and codex-style JSON events on stdout.
for argument in "$@"; do echo "arg: $argument" >&2; done
echo '{"type":"thread.started","thread_id":"t1"}'
echo '{"type":"item.completed","item":{"id":"i1","type":"agent_message","text":"Looking at the module."}}'
echo '{"type":"item.completed","item":{"id":"i2","type":"agent_message","text":"Refactored the module."}}'
echo '{"type":"turn.completed","usage":{"input_tokens":1200,"cached_input_tokens":0,"output_tokens":85}}'
