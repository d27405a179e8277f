"""A quiet start for the command line (``xai …``, ``python -m xai …``).

TensorFlow 2.21 logs through Abseil before ``absl::InitializeLog()`` is called, so its start-up
lines (oneDNN, CUDA drivers, CPU instructions) reach stderr whatever ``TF_CPP_MIN_LOG_LEVEL``
says. For the command line, :func:`import_tensorflow` sets that variable to 3 unless the user set
it, and applies it to what TensorFlow's C++ code writes while it is imported. Python's own
warnings go to stderr untouched. Library users' processes are left alone.
"""
from __future__ import annotations

import os
import re
import sys
import tempfile

_LOG_LINE = re.compile(rb"[IWEF]\d{4} \d\d:\d\d:\d+\.\d+ +\d+ [^ \]]+:\d+\] ")
_ABSL_NOTICE = b"WARNING: All log messages before absl::InitializeLog() is called"


def notebook_profile() -> None:
    """For the study notebooks, which set ``XAI_PROFILE`` from their ``profile`` parameter before
    ``import xai``: TensorFlow's C++ start-up lines are quieted (``TF_CPP_MIN_LOG_LEVEL=3`` unless
    set), and with ``XAI_PROFILE=offline`` and no ``KERAS_HOME`` Keras is pointed at a writable
    copy of the offline assets' Keras cache (``$XAI_ASSETS/keras_home``, else
    ``../shared/assets/keras_home`` beside the repository), so the ImageNet weights load without
    a network. Keras and TensorFlow read these once, when first imported: this runs before."""
    if "XAI_PROFILE" in os.environ:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if os.environ.get("XAI_PROFILE") != "offline" or "KERAS_HOME" in os.environ:
        return
    import shutil
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    assets = Path(os.environ.get("XAI_ASSETS", root.parent / "shared" / "assets"))
    if not (assets / "keras_home").is_dir():
        raise FileNotFoundError(f"profile 'offline' needs the offline Keras cache at "
                                f"{assets / 'keras_home'}: set XAI_ASSETS to the assets folder, "
                                "or use profile 'online'")
    if "keras" in sys.modules:
        raise RuntimeError("profile 'offline' must be set before Keras is imported: restart "
                           "the kernel and run the notebook from the top")
    home = Path(tempfile.mkdtemp(prefix="keras-home-")) / "keras_home"  # Keras writes keras.json
    os.environ["KERAS_HOME"] = str(shutil.copytree(assets / "keras_home", home))


def command_line() -> bool:
    """Whether this process is the ``xai`` command (a console script or ``python -m xai``)."""
    argv = getattr(sys, "argv", None) or [""]
    if argv[0] == "-m":  # while ``python -m`` imports the package, argv[0] is "-m"
        orig = getattr(sys, "orig_argv", [])
        return any(a == "-m" and b in ("xai", "xai.cli") for a, b in zip(orig, orig[1:]))
    return os.path.basename(argv[0]) in ("xai", "xai.exe")


def filter_log(text: bytes, level: int) -> bytes:
    """``text`` without the C++ log lines below ``level`` (TF_CPP_MIN_LOG_LEVEL: 1 drops INFO, 2
    also WARNING, 3 also ERROR) and the lines that continue them."""
    kept, dropping = [], False
    for line in text.splitlines(keepends=True):
        if _LOG_LINE.match(line):
            dropping = "IWEF".index(chr(line[0])) < level
        elif line.startswith(_ABSL_NOTICE):
            dropping = level > 0
        if not dropping:
            kept.append(line)
    return b"".join(kept)


def import_tensorflow() -> None:
    """Import TensorFlow, dropping its C++ start-up lines below ``TF_CPP_MIN_LOG_LEVEL``
    (default 3). Only the C++ side of stderr (file descriptor 2) is captured."""
    if "tensorflow" in sys.modules or sys.stderr is None:
        return
    try:
        level = int(os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3"))
        sys.stderr.flush()
        saved = os.dup(2)
    except (ValueError, OSError):  # an odd level, or no file descriptor 2
        import tensorflow  # noqa: F401
        return
    python_stderr = sys.stderr
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            sys.stderr = open(os.dup(saved), "w", buffering=1, encoding=python_stderr.encoding,
                              errors="backslashreplace")
            import tensorflow  # noqa: F401
        finally:
            if sys.stderr is not python_stderr:
                sys.stderr.close()
                sys.stderr = python_stderr
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            rest = filter_log(captured.read(), level)
            while rest:
                rest = rest[os.write(2, rest):]
