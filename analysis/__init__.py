"""Ontschot analysis: summaries, paired regime comparisons and tables from stored results."""
