"""Reproductions of the paper's figures (``pyqhn reproduce …``).

* :mod:`.landscape` — Figs. 2–5: enumerate the cost, multi-start L-BFGS per circuit,
  success probabilities, decision boundary / optimal weights, energy densities.
* :mod:`.fourier_fig` — Fig. 6: Walsh–Fourier weight spectrum W(S) of the three tasks.
* :mod:`.overfitting` — Fig. 7: train vs validation energy for small training sets.
* :mod:`.vi` — variational-inference objectives (MLE vs ELBO vs SELBO).

Submodules are imported on use; this package imports nothing heavy.
"""
