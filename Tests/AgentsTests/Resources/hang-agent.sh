#!/bin/sh
# An agent CLI stuck on an interactive question: stdin is closed and there is no TTY, so it
# keeps asking.
while :; do
    echo "Apply these changes? [y/N]"
    read -r answer || sleep 1
done
