#!/usr/bin/env bash
# Build bench/.venv: TensorFlow (CPU) + Keras 3 + tf-keras-vis + xplique, and make the repo's `xai`
# importable (a .pth file pointing at the repo root, so edits to xai/ are picked up live).
# Idempotent: does nothing when the venv exists and was built from the current requirement files.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
VENV="$HERE/.venv"
PY="${PYTHON:-python3}"
STAMP="$VENV/.bench-stamp"
WANT="$(cat "$HERE/requirements.txt" "$HERE/requirements-nodeps.txt" "$HERE/setup.sh" | sha256sum | cut -d' ' -f1)"

if [[ -x "$VENV/bin/python" && -f "$STAMP" && "$(cat "$STAMP")" == "$WANT" ]]; then
    echo "bench/.venv is up to date"
    exit 0
fi

echo "building bench/.venv ..."
[[ -x "$VENV/bin/python" ]] || "$PY" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --upgrade pip
"$VENV/bin/python" -m pip install --quiet -r "$HERE/requirements.txt"
"$VENV/bin/python" -m pip install --quiet --no-deps -r "$HERE/requirements-nodeps.txt"
SITE="$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
echo "$ROOT" > "$SITE/xai-repo.pth"
"$VENV/bin/python" - <<'PY'
import os
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import tensorflow as tf, keras
import tf_keras_vis, xplique
from xplique.attributions import GradCAM, GradCAMPP, IntegratedGradients, SmoothGrad, Rise  # noqa
from tf_keras_vis.gradcam import Gradcam  # noqa
from tf_keras_vis.gradcam_plus_plus import GradcamPlusPlus  # noqa
from tf_keras_vis.scorecam import Scorecam  # noqa
from tf_keras_vis.saliency import Saliency  # noqa
assert keras.__version__.startswith("3"), keras.__version__
print(f"ok: tensorflow {tf.__version__}, keras {keras.__version__}, "
      f"tf-keras-vis {tf_keras_vis.__version__}, xplique {xplique.__version__}")
PY
echo "$WANT" > "$STAMP"
