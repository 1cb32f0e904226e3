"""Use cases: the Experi application whose methods are the commands, and its ports."""
