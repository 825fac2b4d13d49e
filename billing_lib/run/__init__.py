"""Running a month: the options, the pipeline end to end, the papermill batch and the `billing` command."""
