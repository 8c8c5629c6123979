#!/bin/bash -eu
# ClusterFuzzLite build script: the same build as OSS-Fuzz's (fuzz/ossfuzz.sh).
"$SRC/patrol/fuzz/ossfuzz.sh"
