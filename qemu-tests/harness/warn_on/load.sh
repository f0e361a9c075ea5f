#!/usr/bin/env bash
# Loads the warn_on test module (built by qemu-tests/harness/test.sh), whose init warns;
# arguments are its parameters (leak=1: it also leaks memory).
insmod "$(dirname "$0")/../../../target/harness/warn_on/warn_on.ko" "$@"
