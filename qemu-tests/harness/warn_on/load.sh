#!/usr/bin/env bash
# Loads the warn_on test module (built by qemu-tests/harness/test.sh), whose init warns.
insmod "$(dirname "$0")/../../../target/harness/warn_on/warn_on.ko"
