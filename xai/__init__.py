"""xai: visual explanations (CAMs, gradients, perturbations) for Keras 3 CNN classifiers."""
from . import _startup

_startup.notebook_profile()  # XAI_PROFILE (notebooks): quiet TensorFlow; offline Keras cache
if _startup.command_line():  # before TensorFlow is imported: no C++ start-up lines
    _startup.import_tensorflow()
# importing the method modules registers their methods
from .cam import scorecam, smooth_gradcampp, weighted_cam
from .explain import REGISTRY, explain, map_methods
from .gradients import guided_backprop, guided_gradcam, integrated_gradients, saliency, smoothgrad
from .perturbation import rise, sise

# isort: split
# the newer methods, registered after the others (committed tables follow the registry's order)
from .finercam import finercam
from .opticam import opticam
from .reciprocam import reciprocam
from .shapleycam import shapleycam

#: every method by name: ``xai.METHODS[name](model, x, **options)`` (the same checked call as
#: ``xai.explain(model, x, method=name, ...)``)
METHODS = REGISTRY

__all__ = ["explain", "METHODS", "MAP_METHODS", "weighted_cam", "smooth_gradcampp", "scorecam",
           "saliency", "smoothgrad", "integrated_gradients", "guided_backprop",
           "guided_gradcam", "rise", "sise", "finercam", "opticam", "reciprocam",
           "shapleycam"]
__version__ = "0.1.0"

#: submodules reachable as ``xai.<name>`` after ``import xai``, imported on first use (so
#: ``import xai`` does not pay for matplotlib, OpenCV or the data loaders until they are needed)
_SUBMODULES = ("cam", "combine", "data", "evaluation", "gradients", "imagenet", "layers", "maps",
               "metrics", "models", "perturbation", "probe", "scores", "stats", "train", "viz",
               "widgets")


def __getattr__(name):
    if name == "MAP_METHODS":  # read at each access, so methods registered later appear
        return map_methods()  # the methods that return one map per sample (N, H, W) / (N, T)
    if name in _SUBMODULES:
        import importlib
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'xai' has no attribute {name!r}")
