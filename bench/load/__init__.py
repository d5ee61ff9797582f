"""The load run of issue 8: `make load` (`python -m bench.load.run`); see bench/README.md."""
