"""Object detectors, one runtime per module: frame in, :class:`core.types.Detection` list out.

:mod:`vision.detector` re-exports their public names. The package itself imports nothing,
so importing one module does not load the others.
"""
