"""Optimisers: LBFGS on exact gradients, probabilistic-descent direct search."""
