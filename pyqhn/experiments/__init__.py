"""Reproductions of the paper's figures (``pyqhn reproduce …``): specs plus their analysis.

* :mod:`.base` — how every experiment runs (run log, groups, driver, summary) and the one
  checked path for spec overrides.
* :mod:`.landscape` — Figs. 2–5: enumerate the cost, multi-start L-BFGS per circuit,
  success probabilities, decision boundary / optimal weights, energy densities.
* :mod:`.fourier_fig` — Fig. 6: Walsh–Fourier weight spectrum W(S) of the three tasks.
* :mod:`.overfitting` — Fig. 7: train vs validation energy for small training sets.
* :mod:`.appendix` — Figs. 8–13: gradient-free and noisy optimisation on MNIST.
* :mod:`.vi` — variational-inference objectives (MLE vs ELBO vs SELBO).

No module here holds a training loop, a file format or a command: the loop is
:mod:`pyqhn.driver`'s, the files :mod:`pyqhn.runlog`'s, the figures :mod:`pyqhn.plotting`'s
and the commands :mod:`pyqhn.cli`'s. Submodules are imported on use.
"""
