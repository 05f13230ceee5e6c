#!/usr/bin/env bash
# Reproduce the NODROP paper's experiments (issue 3): set up, build, run all
# four scenarios and their sweeps, print the comparison table, and write the
# plots under results/reproduce/ (about 5 minutes on 2 cores).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec /usr/bin/python3 plot/reproduce.py "$@"
