"""pyqhn: quantum hypernetworks.

Variational circuits whose measurement outcomes are binary neural networks. Energies are
compared with the original stack's to 1e-9, which needs float64: importing pyqhn enables
JAX double precision (through ``JAX_ENABLE_X64`` before JAX is imported, so that
``import pyqhn`` itself stays fast, or through JAX's config if JAX is already loaded).
"""

import os as _os
import sys as _sys

if "jax" in _sys.modules:
    _sys.modules["jax"].config.update("jax_enable_x64", True)
else:
    _os.environ["JAX_ENABLE_X64"] = "true"

__version__ = "0.1.0"

#: Names importable from ``pyqhn`` (loaded on first use, so ``import pyqhn`` stays fast).
_EXPORTS = {
    "Problem": "pipeline", "Results": "pipeline", "Dataset": "datasets",
    "Circuit": "circuits", "brickwork_circuit": "circuits", "product_circuit": "circuits",
    "random_params": "circuits", "get_engine": "engines", "NoiseModel": "noise",
    "train_multistart": "driver", "run_groups": "driver", "Group": "driver",
    "RunLog": "runlog", "InputError": "checks", "QHNClassifier": "classifier",
}
_SUBMODULES = ("datasets", "models", "cost", "circuits", "engines", "objectives",
               "optimizers", "driver", "runlog", "analysis", "pipeline", "plotting",
               "interop", "shot_estimators", "noise", "bits", "fourier", "checks", "classifier")

__all__ = ["__version__", *_EXPORTS, *_SUBMODULES]


def __getattr__(name: str):
    import importlib

    if name in _EXPORTS:
        return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module 'pyqhn' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
