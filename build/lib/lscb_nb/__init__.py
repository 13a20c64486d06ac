"""Helper package for the London Safeguarding Children Board Datasets Project.

The phase notebooks in ``notebooks/`` stay thin: they read parameters and call
functions from the modules here, one module per part of the domain.
"""

__version__ = "0.1.0"
