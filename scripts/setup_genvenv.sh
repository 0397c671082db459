#!/usr/bin/env bash
# Set up the venv that generates the golden test data (scripts/gen_golden.py).
#
#   scripts/setup_genvenv.sh [GROUP ...]      GROUP: torch (the default), keras, sklearn,
#                                             jax (with optax) or all
#   GENVENV=/tmp/gv scripts/setup_genvenv.sh  another place (default .genvenv, relative to
#                                             the repository root)
#   PYTHON=python3.11 scripts/setup_genvenv.sh  the interpreter that creates the venv
#
# then: .genvenv/bin/python scripts/gen_golden.py --only nll
#
# The venv is kept apart from .venv: the package and its tests never need these reference
# libraries (the golden files are committed), and they are big.  Re-running is cheap: the
# venv is created only if missing, and only the requirements that are not yet installed at
# the pinned version are handed to pip.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
genvenv="${GENVENV:-.genvenv}"
case "$genvenv" in
    /*) venv="$genvenv" ;;
    *) venv="$root/$genvenv" ;;
esac
python="${PYTHON:-python3}"

# --------------------------------------------------------------------------- groups
# One function per group of reference libraries, printing its requirements one a line.
# Pin exact versions of the big ones: the golden values depend on them, and an unpinned
# torch would download gigabytes (torch==2.13.0 is a CPU build on this machine's disk).

group_torch() {
    echo "torch==2.13.0"
    echo "numpy"
}

group_keras() {  # Keras 3 on the JAX backend (KERAS_BACKEND=jax in the scripts)
    echo "keras==3.15.1"
    echo "jax==0.10.2"
    echo "jaxlib==0.10.2"
}

group_sklearn() {
    echo "scikit-learn==1.9.1"
}

group_jax() {  # optax's losses, on JAX
    echo "jax==0.10.2"
    echo "jaxlib==0.10.2"
    echo "optax==0.2.8"
}

ALL_GROUPS="torch keras sklearn jax"

check_group() {  # after installing: import the group's libraries and show their versions
    case "$1" in
        torch) "$venv/bin/python" - <<'EOF'
import numpy
import torch

assert torch.__version__.split("+")[0] == "2.13.0", torch.__version__
print(f"  torch {torch.__version__}, numpy {numpy.__version__}")
EOF
            ;;
        keras) KERAS_BACKEND=jax "$venv/bin/python" -c \
            'import keras; print(f"  keras {keras.__version__} on {keras.backend.backend()}")' ;;
        sklearn) "$venv/bin/python" -c \
            'import sklearn; print(f"  scikit-learn {sklearn.__version__}")' ;;
        jax) "$venv/bin/python" -c \
            'import jax, optax; print(f"  jax {jax.__version__}, optax {optax.__version__}")' ;;
    esac
}

usage() {
    sed -n '2,10s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
}

# --------------------------------------------------------------------------- arguments

if [ $# -eq 0 ]; then
    set -- torch
fi
groups=""
for arg in "$@"; do
    case "$arg" in
        -h | --help) usage; exit 0 ;;
        all) groups="$groups $ALL_GROUPS" ;;
        *)
            if declare -F "group_$arg" >/dev/null; then
                groups="$groups $arg"
            else
                echo "setup_genvenv.sh: unknown group '$arg' (groups: $ALL_GROUPS, all)" >&2
                exit 2
            fi
            ;;
    esac
done

# --------------------------------------------------------------------------- the venv

if [ -x "$venv/bin/python" ]; then
    echo "venv $venv exists"
else
    echo "creating venv $venv with $("$python" --version 2>&1)"
    "$python" -m venv "$venv"
fi

installed() {  # installed REQUIREMENT: is it there, at the pinned version if it has one?
    "$venv/bin/python" - "$1" <<'EOF'
import sys
from importlib import metadata

name, _, want = sys.argv[1].partition("==")
try:
    have = metadata.version(name)
except metadata.PackageNotFoundError:
    sys.exit(1)
# a local label is not part of the pin: torch==2.13.0 is satisfied by 2.13.0+cpu
sys.exit(0 if not want or have.split("+")[0] == want else 1)
EOF
}

seen=" "
for group in $groups; do
    [[ "$seen" == *" $group "* ]] && continue
    seen="$seen$group "
    missing=()
    while read -r req; do
        if installed "$req"; then
            echo "  $req: installed"
        else
            missing+=("$req")
        fi
    done < <("group_$group")
    if [ ${#missing[@]} -gt 0 ]; then
        echo "group $group: installing ${missing[*]}"
        "$venv/bin/python" -m pip install "${missing[@]}"
    else
        echo "group $group: nothing to install"
    fi
    check_group "$group"
done
echo "ready: $venv/bin/python scripts/gen_golden.py"
