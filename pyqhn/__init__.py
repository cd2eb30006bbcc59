"""pyqhn: quantum hypernetworks.

Variational circuits whose measurement outcomes are binary neural networks. The package
enables JAX double precision on import: energies are compared with the original stack's to
1e-9 and that needs float64.
"""

import jax

jax.config.update("jax_enable_x64", True)

__version__ = "0.1.0"
