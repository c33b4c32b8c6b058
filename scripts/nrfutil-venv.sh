#!/usr/bin/env bash
# Install Nordic's nrfutil 6.1.7 (the last open-source pc-nrfutil, the reference for packages,
# keys, settings pages and serial DFU) into a virtual environment: `scripts/nrfutil-venv.sh DIR`,
# then DIR/bin/nrfutil. Also sourced by the interop scripts for `install_nrfutil DIR`.
#
# nrfutil 6.1.7 declares Python < 3.11 and needs pc_ble_driver_py, whose wheels stop at 3.10. With
# a Python 3.10 it installs normally; otherwise it goes onto the default python3 with a minimal
# stand-in for pc_ble_driver_py (enough for keys, pkg, settings and dfu serial; not for BLE).

install_nrfutil() {
  local dir=$1 py310="" c shim
  for c in "$HOME"/.pyenv/versions/3.10*/bin/python3 python3.10; do
    if "$c" -c 'import sys; assert sys.version_info[:2] == (3, 10)' 2>/dev/null; then py310=$c; break; fi
  done
  if [ -n "$py310" ]; then
    "$py310" -m venv "$dir"
    "$dir/bin/pip" install -q nrfutil==6.1.7
  else
    python3 -m venv "$dir"
    "$dir/bin/pip" install -q --ignore-requires-python --no-deps nrfutil==6.1.7
    "$dir/bin/pip" install -q click crcmod ecdsa intelhex libusb1==1.9.3 piccata \
        'protobuf>=3.17.3,<4' pyserial 'pyspinel>=1.0.0a3' pyyaml tqdm
    shim=$(mktemp -d); mkdir -p "$shim/pc_ble_driver_py"
    echo '__version__ = "0.0.0+stand-in"' > "$shim/pc_ble_driver_py/__init__.py"
    printf 'class NordicSemiException(Exception):\n    pass\nclass NotImplementedException(NordicSemiException):\n    pass\nclass InvalidArgumentException(NordicSemiException):\n    pass\nclass MissingArgumentException(NordicSemiException):\n    pass\nclass IllegalStateException(NordicSemiException):\n    pass\n' > "$shim/pc_ble_driver_py/exceptions.py"
    echo '__conn_ic_id__ = None' > "$shim/pc_ble_driver_py/config.py"
    printf '[build-system]\nrequires = ["setuptools>=61"]\nbuild-backend = "setuptools.build_meta"\n[project]\nname = "pc_ble_driver_py"\nversion = "0.17.0+standin"\n[tool.setuptools]\npackages = ["pc_ble_driver_py"]\n' > "$shim/pyproject.toml"
    "$dir/bin/pip" install -q "$shim"
    rm -rf "$shim"
  fi
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  DIR=${1:?usage: scripts/nrfutil-venv.sh DIR}
  install_nrfutil "$DIR"
  "$DIR/bin/nrfutil" version
fi
