"""Synthetic months (`billing sample`), in every rendering real exports come in. Not imported by a run."""
