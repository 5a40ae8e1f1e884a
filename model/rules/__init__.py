"""Pure rule functions: plain arrays, parameter values and random draws in, arrays out.

Each function states its rule and source in one docstring line. None of them touches a model,
so each is unit-tested on its own in ``tests/test_rules.py``.
"""
