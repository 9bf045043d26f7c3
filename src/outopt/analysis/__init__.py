"""Analyses on top of a built model: explanations, diagnosis, what-if (each in its own module)."""
