"""Rules: the strict loader of ``rules/*.toml`` and the evaluation of findings against them."""
