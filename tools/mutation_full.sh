#!/usr/bin/env bash
# One command for a many-core machine: mutation-test every module with a mutation-score bar and the music
# world's synthesis modules, then write benchmarks/results/mutation.md and mutation.json.
#
#   tools/mutation_full.sh [WHEELS_DIR]      # JOBS defaults to the number of cores
#
# Needs mirbook's environment (`make env`, or VIRTUAL_ENV set). Without network, WHEELS_DIR holds
# the wheels of the tool and of those of its needs that mirbook's book and test extras do not
# already install: mutmut==3.8.1, libcst==1.9.0, setproctitle==1.3.8, textual==8.2.8,
# rich==15.0.0 (all pinned in constraints.txt; click, coverage, pytest, PyYAML, Pygments,
# markdown-it-py, mdit-py-plugins, linkify-it-py, mdurl, platformdirs, typing_extensions come with
# the book and test extras). `pip download -c constraints.txt -d wheels mutmut` on a machine with
# network fetches them.
# On 2 cores the bar modules alone take hours; on 16, expect tens of minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -n "${1:-}" ]; then
    export PIP_NO_INDEX=1 PIP_FIND_LINKS="$(realpath "$1")"
fi
MODULES="mirbook.vocab mirbook.evaluate mirbook.frames mirbook.predict mirbook.train mirbook.io mirbook.scoring
mirbook.representations mirbook.data.datasets mirbook.data.cache mirbook.data.sources mirbook.data.baselines
mirbook.data.real mirbook.data.song mirbook.data.instruments mirbook.data.voice mirbook.data.leads
mirbook.data.score mirbook.data.harmony mirbook.data.styles mirbook.data.mix mirbook.data.render
mirbook.data.expression"
make mutation JOBS="${JOBS:-$(nproc)}" MODULES="$(echo $MODULES)"
