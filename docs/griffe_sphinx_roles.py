"""A griffe extension for the API reference: pyqhn's docstrings use Sphinx roles
(``:func:`name```, ``:class:`~pkg.Name```); this turns them into mkdocstrings
cross-references, so the site links them and a strict build fails on a broken one.

* ``:role:`pyqhn.x.y``` → a link to ``pyqhn.x.y`` (``~`` shows only ``y``);
* ``:role:`.x``` → relative to the object's package; ``:role:`name``` → resolved in the
  object's scope (mkdocstrings' ``scoped_crossrefs``);
* targets outside pyqhn (NumPy, JAX, …: the site has no inventory of them) and private
  names stay code.

It also reads a Google-style ``Example:`` section as ``Examples:`` so that doctest lines
render as code.
"""

from __future__ import annotations

import re

import griffe

ROLE = re.compile(r":(?:py:)?(?:func|class|meth|mod|data|attr|exc|obj|const):`(~?)([^`]+)`")
EXTERNAL = ("numpy", "np", "jax", "jnp", "scipy", "optax", "pandas", "pd", "qiskit",
            "qiskit_aer", "pennylane", "qml", "dask", "distributed", "matplotlib", "sklearn",
            "juliacall", "juliapkg", "click", "tqdm", "jaxopt", "quimb", "cotengra", "math")
#: pyqhn modules outside the API reference (the command line has its own guide page).
NOT_IN_REFERENCE = ("pyqhn.cli", "pyqhn.__main__")


def _link(match: re.Match, obj: griffe.Object) -> str:
    short, target = match.group(1) == "~", match.group(2).strip()
    title = target.rsplit(".", 1)[-1] if short else target.lstrip(".")
    if (target.split(".", 1)[0] in EXTERNAL or target.startswith(NOT_IN_REFERENCE)
            or any(p.startswith("_") for p in target.split("."))):
        return f"`{title}`"  # no inventory of other packages; private names are not shown
    if target.startswith("."):  # relative to the package of the object's module
        module = obj if obj.is_module else obj.module
        is_package = module.filepath is not None and str(module.filepath).endswith(
            "__init__.py")
        package = module.path if is_package else module.path.rsplit(".", 1)[0]
        target = f"{package}{target}"
    return f"[`{title}`][{target}]"


def convert(text: str, obj: griffe.Object) -> str:
    text = ROLE.sub(lambda m: _link(m, obj), text)
    return re.sub(r"(?m)^(\s*)Example:\s*$", r"\1Examples:", text)


class SphinxRoles(griffe.Extension):
    """Rewrite Sphinx roles in every docstring when griffe loads the object."""

    def on_instance(self, *, obj: griffe.Object, **kwargs) -> None:
        if obj.docstring is not None:
            obj.docstring.value = convert(obj.docstring.value, obj)
