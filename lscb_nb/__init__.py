"""Helper package for the London Safeguarding Children Board Datasets Project.

The phase notebooks in ``notebooks/`` stay thin: they read parameters and call
functions from the modules here, in layers (``data/layers.yaml``):
core, one sub-package per phase, output, tools.
"""

import logging

# A library logs, the application decides where to: without a handler configured
# (the CLI and the batch configure one), nothing is printed.
logging.getLogger(__name__).addHandler(logging.NullHandler())

__version__ = "0.1.0"
