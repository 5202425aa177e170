"""Convolution and pooling on NCHW arrays (the book's chapter after the MLPs)."""
__all__: list = []
