"""footy's test bed: synthetic footage and the labeled clip sets the dedup tests and
benchmarks measure on. Harness code, not part of the pipeline: nothing in ``footy`` imports
it outside the stand-in servers."""
