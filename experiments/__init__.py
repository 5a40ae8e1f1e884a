"""Ontschot experiments: scenarios, replicated runs, the result store and the command line."""
