"""The compiled part of the package; everything else is declared in pyproject.toml.

``gateway.inspect.text._scorer`` sums the figures of a text's white-space tokens in one
pass over its UTF-8 (``_scorer.c``) and finds the lines a body's secrecy stamp could be on
(``_stamps.c``) (gateway/inspect/text/scorer.py has the pure-Python reference, used
when the extension is not built). It needs gcc and the Python headers (python3-dev), which
scripts/bootstrap.sh installs.
"""

from setuptools import Extension, setup

setup(ext_modules=[Extension("gateway.inspect.text._scorer",
                             ["gateway/inspect/text/_scorer.c",
                              "gateway/inspect/text/_stamps.c"],
                             extra_compile_args=["-O2", "-std=c11"])])
