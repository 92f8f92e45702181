"""Property-based tests (Hypothesis): arbitrary input to every public form and the loader."""
