"""The command line: ``xai explain``, ``xai methods``, ``xai layers``, ``xai demo`` (also
``python -m xai``).

Every input is checked before anything is written: a missing image, an unknown model, method,
class or layer ends with one line on stderr and exit code 2, and the output folder is untouched.
"""
from __future__ import annotations

import argparse
import ast
import os
import sys
import tempfile
import time
from pathlib import Path


class CommandError(Exception):
    """A user error: printed as one line, exit code 2."""


def main(argv=None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    try:
        return args.run(args)
    except CommandError as exc:
        print(f"xai: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("xai: interrupted", file=sys.stderr)
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="xai", description="Visual explanations for Keras CNN classifiers.")
    sub = parser.add_subparsers(required=True, metavar="COMMAND")

    explain = sub.add_parser(
        "explain", help="explain images: an overlay (PNG) and the raw map (.npy) per image",
        description="Explain each image's prediction and write <image>_<method>.png (the map "
                    "over the image) and <image>_<method>.npy (the raw map or attribution).")
    explain.add_argument("images", nargs="+", metavar="IMAGE", help="image files")
    _model_arguments(explain)
    explain.add_argument("--method", default="gradcam",
                         help="explanation method (default gradcam; see 'xai methods')")
    explain.add_argument("--target", help="class to explain: an index or an ImageNet class "
                                          "name (default: each image's top-1)")
    explain.add_argument("--layer", help="layer for CAM methods (default: the last spatial "
                                         "map; see 'xai layers MODEL')")
    explain.add_argument("--scale", metavar="FACTOR",
                         help="input scaling of a saved --model: it gets the RGB values 0-255 "
                              "times FACTOR, e.g. 1/255 (or 0.00392) for a model trained on "
                              "[0, 1]. Default: the raw values 0-255. Zoo models use their "
                              "own preprocessing")
    explain.add_argument("--preprocess", metavar="FAMILY",
                         help="instead of --scale: a saved --model's input is preprocessed as "
                              "this zoo family's keras.applications preprocess_input (vgg16, "
                              "resnet50, mobilenet, inceptionv3, xception, densenet121, ...)")
    explain.add_argument("--out", default="xai-output", help="output folder (default xai-output)")
    explain.add_argument("--seed", type=int, default=0, help="seed of random methods (default 0)")
    explain.add_argument("--quiet", action="store_true", help="no progress bars")
    explain.set_defaults(run=_explain)

    methods = sub.add_parser("methods", help="list the explanation methods")
    methods.set_defaults(run=_methods)

    layers = sub.add_parser("layers", help="list a model's spatial layers (for --layer)")
    _model_arguments(layers, positional=True)
    layers.set_defaults(run=_layers)

    demo = sub.add_parser("demo", help="start the browser demo on this computer",
                          description="Serve the browser demo on http://HOST:PORT/ (local only "
                                      "by default; no internet needed).")
    demo.add_argument("--port", type=int, default=8000, help="port (default 8000; 0: any free)")
    demo.add_argument("--host", default="127.0.0.1", help="address (default 127.0.0.1)")
    demo.add_argument("--open", action="store_true", help="open it in the web browser")
    demo.set_defaults(run=_demo)
    return parser


def _model_arguments(parser, positional=False):
    help_ = ("a zoo architecture (mobilenet, vgg16, inceptionv3, xception, resnet50, resnet152, "
             "densenet121) or a saved .keras/.h5 model")
    if positional:
        parser.add_argument("model", metavar="MODEL", help=help_)
    else:
        parser.add_argument("--model", default="mobilenet", help=help_ + " (default mobilenet)")
    parser.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                        help="builder argument of a zoo model, e.g. --option alpha=0.25 "
                             "(repeatable)")


# ------------------------------------------------------------------------------- commands
def _methods(args) -> int:
    import xai
    for name, method in xai.METHODS.items():
        kind = "map" if method.returns == "map" else "attribution"
        layer = {"one": "  (--layer)", "many": "  (several layers)"}.get(method.layer, "")
        print(f"{name:22s} {method.label:22s} {kind}{layer}")
    return 0


def _demo(args) -> int:
    from .demo_server import serve
    try:
        serve(args.port, args.host, args.open)
    except OSError as exc:
        raise CommandError(f"cannot serve on {args.host}:{args.port}: {exc.strerror or exc}; "
                           "choose another --port") from None
    return 0


def _layers(args) -> int:
    import xai.layers
    zm = _load_model(args)
    default = zm.default_layer or xai.layers.resolve_layer(zm.model)[-1].name
    for name in xai.layers.spatial_layer_names(zm.model):
        print(name + ("  (default)" if name == default else ""))
    return 0


def _explain(args) -> int:
    import numpy as np

    import xai
    import xai.data
    import xai.viz
    started = time.perf_counter()
    if args.method not in xai.METHODS:
        raise CommandError(f"unknown method {args.method!r}; choose one of: "
                           f"{', '.join(xai.METHODS)}")
    method = xai.METHODS[args.method]
    if args.layer and method.layer != "one":
        raise CommandError(f"method {args.method!r} takes no --layer")
    _check_distinct_names(args.images)
    preprocess = _input_scaling(args)
    out = _output_folder(args.out)
    images = [_read_image(path) for path in args.images]
    zm = _load_model(args, preprocess)
    x_img = xai.viz.resize(images, zm.input_size, "area")
    x = zm.preprocess(x_img)
    target = _target(args.target)
    options = {"progress": not args.quiet}
    if "seed" in method.options():
        options["seed"] = args.seed
    if method.layer == "one":
        options["layer"] = args.layer or zm.default_layer
    try:
        result = xai.explain(zm.model, x, method=args.method, target=target, **options)
        probs = xai.scores.class_scores(zm.model, x, "probability")
    except (ValueError, TypeError, FileNotFoundError) as exc:
        raise CommandError(str(exc).splitlines()[0]) from None
    maps = method.display_map(result)
    overlays = [xai.viz.overlay(img, m) for img, m in zip(x_img, maps)]
    try:
        written = _write_all(out, [Path(p).stem for p in args.images], args.method, overlays,
                             result)
    except OSError as exc:
        raise CommandError(f"cannot write to {args.out}: {exc.strerror or exc}") from None
    top = zm.decode(probs, top=5) if zm.decode else [
        [(int(i), str(int(i)), float(p[i])) for i in np.argsort(-p)[:5]] for p in probs]
    for path, predictions in zip(args.images, top):
        print(f"{path}: " + ", ".join(f"{name} ({i}) {p:.3f}" for i, name, p in predictions))
    print(f"wrote {len(written)} files to {args.out} in {time.perf_counter() - started:.1f} s")
    return 0


# ------------------------------------------------------------------------------- helpers
def _check_distinct_names(paths):
    """Outputs are named after the images' file names: refuse two alike before any work."""
    for i, path in enumerate(paths):
        for other in paths[:i]:
            if Path(other).stem == Path(path).stem:
                raise CommandError(f"{other} and {path} would write the same output files "
                                   f"({Path(path).stem}_*); give the images distinct names")


def _output_folder(text) -> Path:
    """--out with ``..`` resolved first (so that ``a/../b`` does not leave an empty ``a/``),
    checked writable before any work by making and removing a folder in its nearest existing
    ancestor; nothing is left behind."""
    out = Path(text).expanduser().resolve()
    if out.exists() and not out.is_dir():
        raise CommandError(f"--out {text} is a file, not a folder; choose another --out")
    ancestor = next(p for p in (out, *out.parents) if p.exists())
    if not ancestor.is_dir():
        raise CommandError(f"--out {text}: {ancestor} is a file, not a folder; choose another "
                           "--out")
    try:
        tempfile.TemporaryDirectory(dir=ancestor, prefix=".xai-").cleanup()
    except OSError as exc:
        raise CommandError(f"cannot write to --out {text}: {exc.strerror or exc}; choose "
                           "another --out") from None
    return out


def _read_image(path):
    import xai.data
    if not Path(path).is_file():
        raise CommandError(f"no such image file: {path}")
    try:
        return xai.data.load_image(path)
    except (ValueError, OSError) as exc:
        raise CommandError(f"cannot read {path}: {exc}") from None


def _input_scaling(args):
    """The ``preprocess`` that --scale or --preprocess give a saved model, or None."""
    import xai.models
    given = [(flag, value) for flag, value in (("--scale", args.scale),
                                                ("--preprocess", args.preprocess)) if value]
    if not given:
        return None
    if len(given) > 1:
        raise CommandError("give --scale or --preprocess, not both")
    flag, value = given[0]
    saved = str(args.model).lower().endswith((".keras", ".h5")) or os.path.isfile(args.model)
    if not saved:
        raise CommandError(f"{flag} is for a saved --model (.keras/.h5); the zoo model "
                           f"{args.model!r} has its own preprocessing")
    family = value.lower().replace("_", "").replace("-", "") in xai.models.ARCHITECTURES
    if flag == "--preprocess" and not family:
        raise CommandError(f"--preprocess {value!r}: choose one of "
                           f"{', '.join(xai.models.ARCHITECTURES)}, or give --scale FACTOR")
    if flag == "--scale" and family:
        raise CommandError(f"--scale takes a factor such as 1/255; for {value!r} use --preprocess")
    try:
        return xai.models.preprocess_for(value)
    except ValueError:
        raise CommandError(f"--scale {value!r}: give a positive factor such as 1/255 or 0.00392"
                           ) from None


def _load_model(args, preprocess=None):
    import xai.models
    options = {} if preprocess is None else {"preprocess": preprocess}
    for item in args.option:
        key, sep, value = item.partition("=")
        if not sep or not key.isidentifier():
            raise CommandError(f"--option takes KEY=VALUE, got {item!r}")
        try:
            options[key] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            options[key] = value
    try:
        return xai.models.load(args.model, **options)
    except (ValueError, TypeError, FileNotFoundError, xai.models.WeightsUnavailableError) as exc:
        raise CommandError(str(exc).splitlines()[0]) from None


def _target(text):
    if text is None:
        return None
    return int(text) if text.lstrip("-").isdigit() else text


def _write_all(out: Path, stems, method, overlays, result) -> list[Path]:
    """Write every file into a temporary folder inside ``out``, then move them in place, so an
    error (a full disk) leaves no partial set behind."""
    import numpy as np

    import xai.viz
    names = [f"{stem}_{method}" for stem in stems]
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out, prefix=".xai-") as tmp:
        staged = []
        for name, overlay, raw in zip(names, overlays, result):
            xai.viz.save_image(overlay, Path(tmp) / f"{name}.png")
            np.save(Path(tmp) / f"{name}.npy", raw)
            staged += [f"{name}.png", f"{name}.npy"]
        for name in staged:
            os.replace(Path(tmp) / name, out / name)
    return [out / name for name in staged]


if __name__ == "__main__":
    sys.exit(main())
