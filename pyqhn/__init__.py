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
