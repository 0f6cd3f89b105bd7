#!/bin/sh
# A tiny agent CLI: reads the prompt on stdin, appends it as a comment to the file named by $1,
# and reports the value of the variable named by $3 (or "unset").
target="$1"
step="$2"
prompt=$(cat)
printf '# step %s: %s\n' "$step" "$prompt" >> "$target"
echo "variable: $(printenv "$3" || echo unset)"
echo "edited $target in step $step"
