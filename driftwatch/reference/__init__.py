"""The reference (demo) dataset: reading tabular data, kinds of features, value conversion, the cached profile."""
