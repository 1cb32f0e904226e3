"""Entry points: the HTTP API (Litestar) and the `experi` command line."""
