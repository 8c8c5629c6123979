#!/bin/bash -eu
# OSS-Fuzz build script for patrol: everything is in the repository's fuzz/ossfuzz.sh.
"$SRC/patrol/fuzz/ossfuzz.sh"
